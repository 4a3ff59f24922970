// What cost control costs a call, on each store.
//
// In memory: a rate-limit check plus a budget reservation (and, separately, the whole cycle with
// the commit), uncontended, with two threads on the same user, and with many users taking
// turns, against the least a thread-safe keyed counter does: a mutex and a hash-map update under
// a prebuilt key.
// SQLite: a budget reservation and its commit (two transactions) against the same two
// transactions written directly with sqlite3 on a file set up alike.
// Redis: rate-limit checks per second through store::redis, many in flight on its one
// pipelined connection (with and without batching steps into shared script calls), beside
// redis-benchmark running the same operation, one script call per check, with the same pipeline
// depth on the same server; the program prints them all.
#include <llm/budget/tokens.hpp>
#include <llm/rate_limit/token_bucket.hpp>
#include <llm/store/memory.hpp>
#include <llm/store/redis.hpp>
#include <llm/store/sqlite.hpp>

#include <support/redis_server.hpp>
#include <support/temp_dir.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <bench/ratio_main.hpp>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The policies count tokens through this, so the figures are the checks', not a tokenizer's.
struct fixed_counter {
    std::uint64_t count(const llm::request&) const noexcept { return 100; }
};

const llm::time_point noon = llm::time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}} + 12h;

llm::request question()
{
    llm::request r{.model = "gpt-4o-mini", .messages = {llm::user("What is the capital of Norway?")}, .max_tokens = 50};
    r.identity.user = "alice";
    r.identity.tenant = "acme";
    return r;
}

// Limits nobody reaches: the benchmark measures admission, never a refusal.
template <class Store>
auto limiter_on(Store s)
{
    return llm::rate_limit::token_bucket<Store, fixed_counter>(
        s, {{.scope = llm::rate_limit::scope::user, .requests = llm::rate_limit::limit{1'000'000'000'000, 1h}}});
}

template <class Store>
auto budget_on(Store s)
{
    return llm::budget::tokens<Store, fixed_counter>(s, {.per_user = 1e15, .per_tenant = 1e15});
}

// ── in memory ──

struct keyed_counters {
    std::mutex m;
    std::unordered_map<std::string, double> values;
};

void mutex_map_baseline(benchmark::State& state)
{
    static keyed_counters counters;
    const std::string key = "llm:{u:alice}:rl";
    for (auto _ : state) {
        std::lock_guard lock(counters.m);
        benchmark::DoNotOptimize(counters.values[key] += 1);
    }
}

void memory_check(benchmark::State& state)
{
    static llm::store::memory s;
    static auto limiter = limiter_on(s);
    static auto budget = budget_on(s);
    auto r = question();
    for (auto _ : state) {
        auto admitted = limiter.acquire(r, noon);
        auto held = budget.reserve(r, noon);
        benchmark::DoNotOptimize(admitted);
        benchmark::DoNotOptimize(held);
    }
}

// memory_check with 10 000 users of 100 tenants taking turns, as in a busy service: each call
// reaches cells that other calls have pushed out of the processor's caches since.
void memory_check_many_users(benchmark::State& state)
{
    static llm::store::memory s;
    static auto limiter = limiter_on(s);
    static auto budget = budget_on(s);
    std::vector<llm::request> calls(10'000, question());
    for (std::size_t i = 0; i < calls.size(); ++i) {
        calls[i].identity.user = "user-" + std::to_string(i);
        calls[i].identity.tenant = "tenant-" + std::to_string(i % 100);
    }
    std::size_t next = 0;
    for (auto _ : state) {
        auto& r = calls[next];
        next = next + 1 == calls.size() ? 0 : next + 1;
        auto admitted = limiter.acquire(r, noon);
        auto held = budget.reserve(r, noon);
        benchmark::DoNotOptimize(admitted);
        benchmark::DoNotOptimize(held);
    }
}

// One half of memory_check alone, to see where its time goes.
template <class Half>
void memory_alone(benchmark::State& state, Half half)
{
    auto r = question();
    for (auto _ : state) {
        auto outcome = half(r);
        benchmark::DoNotOptimize(outcome);
    }
}

auto rate_limit_half = [](llm::request& r) {
    static llm::store::memory s;
    static auto limiter = limiter_on(s);
    return limiter.acquire(r, noon);
};

auto reservation_half = [](llm::request& r) {
    static llm::store::memory s;
    static auto budget = budget_on(s);
    return budget.reserve(r, noon);
};

// Where memory_check's time goes, by parts: its three store steps with their keys made
// beforehand (as the policies make them), and the three keys alone.
void memory_prebuilt_steps(benchmark::State& state)
{
    static llm::store::memory s;
    llm::rate_limit::bucket_take take;
    take.limits.push_back({1e12, 3'600'000, 1});
    llm::store::steps<llm::rate_limit::bucket_take> rate;
    rate.push_back({"llm:{u:alice}:rate0", take});
    const llm::budget::hold hold{20781, 1, 1e15, 150, 116, 30h};
    llm::store::steps<llm::budget::hold> budget;
    budget.push_back({"llm:{u:alice}:budget:d20781", hold});
    budget.push_back({"llm:{t:acme}:budget:d20781", hold});
    for (auto _ : state) {
        auto admitted = llm::store::apply_batch(s, rate, noon);
        auto held = llm::store::apply_batch(s, budget, noon);
        benchmark::DoNotOptimize(admitted);
        benchmark::DoNotOptimize(held);
    }
}

void memory_keys(benchmark::State& state)
{
    const llm::store::key_frame rate("llm", "u", "rate0"), user("llm", "u", "budget:"), tenant("llm", "t", "budget:");
    const auto r = question();
    const std::string day = "d20781";
    for (auto _ : state) {
        auto a = rate(r.identity.user);
        auto b = user(r.identity.user, day);
        auto c = tenant(r.identity.tenant, day);
        benchmark::DoNotOptimize(a);
        benchmark::DoNotOptimize(b);
        benchmark::DoNotOptimize(c);
    }
}

void memory_check_and_commit(benchmark::State& state)
{
    static llm::store::memory s;
    static auto limiter = limiter_on(s);
    static auto budget = budget_on(s);
    auto r = question();
    for (auto _ : state) {
        auto admitted = limiter.acquire(r, noon);
        auto held = budget.reserve(r, noon);
        benchmark::DoNotOptimize(admitted);
        budget.commit(std::move(held).value(), llm::usage{100, 20, 0}, noon);
    }
}

// ── SQLite ──

// Made on first use, removed at exit.
const llm::test::temp_dir& files()
{
    static const llm::test::temp_dir dir;
    return dir;
}

void sqlite_raw_baseline(benchmark::State& state)
{
    sqlite3* db = nullptr;
    sqlite3_open(files().file("raw.db").c_str(), &db);
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE IF NOT EXISTS t (key TEXT PRIMARY "
                 "KEY, numbers BLOB) WITHOUT ROWID;",
                 nullptr, nullptr, nullptr);
    sqlite3_stmt* read = nullptr;
    sqlite3_stmt* write = nullptr;
    sqlite3_prepare_v2(db, "SELECT numbers FROM t WHERE key = ?1", -1, &read, nullptr);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO t (key, numbers) VALUES (?1, ?2)", -1, &write, nullptr);
    double cell[4] = {};
    // Two transactions, as a reservation and its commit are: each reads and writes two keys.
    auto transaction = [&] {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
        for (const char* key : {"llm:{u:alice}:budget", "llm:{t:acme}:budget"}) {
            sqlite3_bind_text(read, 1, key, -1, SQLITE_STATIC);
            if (sqlite3_step(read) == SQLITE_ROW)
                std::memcpy(cell, sqlite3_column_blob(read, 0), sizeof cell);
            sqlite3_reset(read);
            cell[0] += 1;
            sqlite3_bind_text(write, 1, key, -1, SQLITE_STATIC);
            sqlite3_bind_blob(write, 2, cell, sizeof cell, SQLITE_STATIC);
            sqlite3_step(write);
            sqlite3_reset(write);
        }
        sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    };
    for (auto _ : state) {
        transaction();
        transaction();
    }
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    sqlite3_close(db);
}

void sqlite_reserve_and_commit(benchmark::State& state)
{
    auto s = llm::store::sqlite::open(files().file("store.db")).value();
    auto budget = budget_on(s);
    auto r = question();
    for (auto _ : state) {
        auto held = budget.reserve(r, noon);
        budget.commit(std::move(held).value(), llm::usage{100, 20, 0}, noon);
    }
}

// ── Redis ──

// Started on first use, stopped at exit.
llm::test::redis_server& redis()
{
    static llm::test::redis_server server;
    return server;
}

// Rate-limit checks of 1000 users, `in_flight` at a time, on one connection and one thread.
void redis_checks(benchmark::State& state)
{
    const auto in_flight = static_cast<int>(state.range(0));
    constexpr int per_iteration = 20'000;
    asio::io_context io;
    llm::store::redis s(io.get_executor(),
                        {.port = redis().port(), .max_batch = static_cast<std::size_t>(state.range(1))});
    auto limiter = limiter_on(s);
    std::vector<llm::request> users;
    for (int u = 0; u < 1000; ++u) {
        users.push_back(question());
        users.back().identity.user = "user-" + std::to_string(u);
    }
    std::size_t failed = 0;
    for (auto _ : state) {
        int started = 0;
        int running = in_flight;
        for (int w = 0; w < in_flight; ++w)
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    while (started < per_iteration) {
                        const auto& r = users[static_cast<std::size_t>(started++ % 1000)];
                        auto admitted = co_await limiter.acquire(r, noon);
                        failed += !admitted;
                    }
                    if (--running == 0)
                        io.stop(); // the connection's reader would keep run() going
                },
                asio::detached);
        io.restart();
        io.run();
    }
    if (failed != 0)
        state.SkipWithError("a check failed");
    state.SetItemsProcessed(state.iterations() * per_iteration);
}

// The same operation, key and arguments through redis-benchmark's own pipeline: one connection,
// `depth` commands in flight. Returns requests per second, or 0 when it could not run.
double redis_benchmark_evalsha(int depth)
{
    asio::io_context io;
    llm::store::redis s(io.get_executor(), {.port = redis().port()});
    // The same operation, one per script call, with its arguments as text: what redis-benchmark
    // can send, and what a client without batching would.
    const std::string text = std::string(llm::store::lua_cells) +
                             "local function step(key, ARGV)\nlocal now = ARGV[1]\n" +
                             std::string(llm::rate_limit::bucket_take::script) +
                             "end\nlocal args = {}\nfor i = 1, #ARGV do args[i] = tonumber(ARGV[i]) end\n"
                             "return step(KEYS[1], args)\n";
    std::string sha;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            // Named first: g++ 12 miscompiles a braced temporary inside co_await.
            std::string load = llm::store::redis::command({"SCRIPT", "LOAD", text});
            auto loaded = co_await s.exec(std::move(load), 1);
            if (loaded)
                sha = loaded.value().front().text;
            io.stop();
        },
        asio::detached);
    io.run_for(10s);
    if (sha.empty())
        return 0;
    const std::string cmd = "redis-benchmark -p " + std::to_string(redis().port()) + " -c 1 -P " +
                            std::to_string(depth) + " -n 200000 -q EVALSHA " + sha +
                            " 1 'llm:{u:alice}:rl' 1795953600000 0 1 1e12 3600000 1 2>&1";
    FILE* out = ::popen(cmd.c_str(), "r");
    if (!out)
        return 0;
    std::string all;
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, out))
        all += buffer;
    ::pclose(out);
    // "EVALSHA ...: 123456.78 requests per second, p50=..." (the last figure before the words)
    const auto words = all.rfind(" requests per second");
    if (words == std::string::npos)
        return 0;
    const auto start = all.rfind(' ', words - 1);
    return std::atof(all.substr(start + 1, words - start - 1).c_str());
}

} // namespace

BENCHMARK(mutex_map_baseline)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(mutex_map_baseline)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true)->Threads(2);
BENCHMARK(memory_check)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(memory_check)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true)->Threads(2);
BENCHMARK(memory_check_many_users)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(memory_alone, rate_limit, rate_limit_half)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK_CAPTURE(memory_alone, reservation, reservation_half)
    ->MinTime(0.2)
    ->Repetitions(9)
    ->ReportAggregatesOnly(true);
BENCHMARK(memory_prebuilt_steps)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(memory_keys)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(memory_check_and_commit)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true);
BENCHMARK(memory_check_and_commit)->MinTime(0.2)->Repetitions(9)->ReportAggregatesOnly(true)->Threads(2);
BENCHMARK(sqlite_raw_baseline)->MinTime(0.2)->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(sqlite_reserve_and_commit)->MinTime(0.2)->Repetitions(5)->ReportAggregatesOnly(true);
// {checks in flight, max_batch}: the default, the same with no batching (one script call per
// check, as redis-benchmark sends), and a busier service.
BENCHMARK(redis_checks)
    ->Args({64, 64})
    ->Args({64, 1})
    ->Args({256, 64})
    ->Iterations(3)
    ->Repetitions(3)
    ->ReportAggregatesOnly(true)
    ->UseRealTime();

int main(int argc, char** argv)
{
    auto medians = llm::bench::run_interleaved(argc, argv);
    auto ratio = [&](const char* what, const char* base) {
        if (medians[what] > 0 && medians[base] > 0)
            std::printf("%-32s %8.1f ns   %.2f x %s\n", what, medians[what], medians[what] / medians[base], base);
    };
    std::printf("\n");
    ratio("mutex_map_baseline", "mutex_map_baseline");
    ratio("memory_check", "mutex_map_baseline");
    ratio("memory_check_many_users", "mutex_map_baseline");
    ratio("memory_alone/rate_limit", "mutex_map_baseline");
    ratio("memory_alone/reservation", "mutex_map_baseline");
    ratio("memory_check_and_commit", "mutex_map_baseline");
    ratio("mutex_map_baseline/threads:2", "mutex_map_baseline");
    ratio("memory_check/threads:2", "mutex_map_baseline/threads:2");
    ratio("memory_check_and_commit/threads:2", "mutex_map_baseline/threads:2");
    ratio("sqlite_reserve_and_commit", "sqlite_raw_baseline");
    const auto checks_per_second = [&](const char* name) {
        return medians[name] > 0 ? 20'000 / (medians[name] * 1e-9) : 0.0;
    };
    if (const double ours = checks_per_second("redis_checks/64/64"); ours > 0) {
        const double theirs = redis_benchmark_evalsha(64);
        std::printf("store::redis rate-limit checks, 64 in flight on one connection:\n");
        std::printf("  steps batched (max_batch 64, the default) %8.0f /s\n", ours);
        std::printf("  one script call per check (max_batch 1)   %8.0f /s\n", checks_per_second("redis_checks/64/1"));
        std::printf("  256 in flight, max_batch 64               %8.0f /s\n", checks_per_second("redis_checks/256/64"));
        std::printf("redis-benchmark, one script call per check, -c 1 -P 64 %8.0f /s (batched / it: %.2f)\n", theirs,
                    theirs > 0 ? ours / theirs : 0.0);
    }
    return 0;
}
