// What outlives a process: SQLite keeps every committed usage across a restart and a kill -9,
// and processes sharing one Redis never spend together beyond a budget.
#include <llm/budget/tokens.hpp>

#include "backends.hpp"
#include "calls.hpp"
#include "support/child_process.hpp"

#include <sqlite3.h>

using namespace llm;
using namespace std::chrono_literals;

namespace {

using test::call;
using test::day_one;
using test::fixed_counter;

const auto morning = day_one + 9h;
const identity alice{.user = "alice", .tenant = "acme"};

// The file's own verdict on its pages and indexes.
std::string integrity_of(const std::string& path)
{
    sqlite3* db = nullptr;
    std::string verdict = "cannot open";
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            verdict = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return verdict;
}

budget::balance user_balance(budget::tokens<store::sqlite, fixed_counter>& b)
{
    auto st = b.status(alice, morning);
    REQUIRE(st);
    return st.value().front();
}

} // namespace

TEST_CASE("SQLite keeps committed usage and calls in flight across a restart", "[cost][budget][durability]")
{
    test::temp_dir dir;
    const auto path = dir.file("budgets.db");
    {
        auto s = store::sqlite::open(path);
        REQUIRE(s);
        budget::tokens<store::sqlite, fixed_counter> b(s.value(), {.per_user = 1000});
        for (int i = 0; i < 3; ++i) {
            auto r = call("alice", 200);
            auto held = b.reserve(r, morning);
            REQUIRE(held);
            b.commit(std::move(held).value(), usage{100, 50, 0}, morning); // spends 150
        }
        auto r = call("alice", 200);
        REQUIRE(b.reserve(r, morning)); // in flight when the process ends: still held
    }
    auto s = store::sqlite::open(path);
    REQUIRE(s);
    budget::tokens<store::sqlite, fixed_counter> b(s.value(), {.per_user = 1000});
    const auto after = user_balance(b);
    CHECK(after.spent == 450);
    CHECK(after.held == 300);
    CHECK(after.remaining == 250);
    auto r = call("alice", 400);
    auto refused = b.reserve(r, morning); // 100 + 400 no longer fits, and clamping leaves 150 output
    REQUIRE(refused);
    CHECK(*r.max_tokens == 150);
}

TEST_CASE("a process killed with SIGKILL while committing loses no usage it had committed",
          "[cost][budget][durability]")
{
    test::temp_dir dir;
    const auto path = dir.file("budgets.db");
    {
        auto created = store::sqlite::open(path); // the schema exists before the child starts
        REQUIRE(created);
    }
    // Every call spends 15 tokens; the child says n once its n-th commit has returned.
    test::child_process child([&](auto tell) {
        auto s = store::sqlite::open(path);
        if (!s)
            return 2;
        bool failed = false;
        budget::tokens<store::sqlite, fixed_counter> b(
            s.value(), {.per_user = 1e12}, {.on_error = [&](const error&) { failed = true; }}, fixed_counter{10});
        for (std::uint64_t n = 1;; ++n) {
            auto r = call("alice", 10);
            auto held = b.reserve(r, morning);
            if (!held)
                return 3;
            b.commit(std::move(held).value(), usage{10, 5, 0}, morning);
            if (failed)
                return 4;
            tell(n);
        }
    });
    std::uint64_t acknowledged = 0;
    while (acknowledged < 300) {
        const auto n = child.next();
        REQUIRE(n); // within 10 s
        acknowledged = *n;
    }
    child.kill(); // somewhere in the middle of a reserve or a commit
    while (const auto n = child.next(1s))
        acknowledged = *n; // what it said before it died

    CHECK(integrity_of(path) == "ok");
    auto s = store::sqlite::open(path);
    REQUIRE(s);
    budget::tokens<store::sqlite, fixed_counter> b(s.value(), {.per_user = 1e12}, {}, fixed_counter{10});
    const auto after = user_balance(b);
    INFO("acknowledged commits: " << acknowledged);
    // Every acknowledged commit is there; at most the one it was making when killed is too.
    CHECK(after.spent >= 15.0 * static_cast<double>(acknowledged));
    CHECK(after.spent <= 15.0 * static_cast<double>(acknowledged + 1));
    CHECK(after.held <= 20); // at most the reservation of the call it was making
}

TEST_CASE("four processes sharing one Redis never spend together beyond a budget", "[cost][budget][durability]")
{
    test::redis_server server;
    constexpr int processes = 4;
    constexpr double limit = 10'000; // 100 calls of exactly 100 tokens
    // Forked before any thread of this process starts: each child runs its own io_context.
    std::vector<std::unique_ptr<test::child_process>> children;
    for (int p = 0; p < processes; ++p)
        children.push_back(std::make_unique<test::child_process>([&, p](auto tell) {
            asio::io_context io;
            store::redis redis(io.get_executor(), {.port = server.port()});
            budget::tokens<store::redis, fixed_counter> b(redis, {.global = limit}, {.clamp_max_tokens = false},
                                                          fixed_counter{50});
            std::uint64_t admitted = 0;
            int status = 0;
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    for (int i = 0;; ++i) {
                        auto r = call("user-" + std::to_string(p) + "-" + std::to_string(i % 7), 50);
                        auto held = co_await b.reserve(r, morning);
                        if (!held) {
                            status = held.error() == errc::budget_exceeded ? 0 : 5;
                            break;
                        }
                        ++admitted;
                        co_await b.commit(std::move(held).value(), usage{50, 50, 0}, morning);
                    }
                    io.stop(); // the connection would keep it running
                },
                asio::detached);
            io.run();
            tell(admitted);
            return status;
        }));
    std::uint64_t admitted = 0;
    for (auto& c : children) {
        const auto n = c->next(30s);
        REQUIRE(n);
        admitted += *n;
        CHECK(c->wait() == 0);
    }
    CHECK(admitted == 100); // every process stops only when the budget is spent, and it is spent exactly

    asio::io_context io;
    store::redis redis(io.get_executor(), {.port = server.port()});
    budget::tokens<store::redis, fixed_counter> b(redis, {.global = limit});
    std::optional<result<std::vector<budget::balance>>> st;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            st = co_await b.status(alice, morning);
            io.stop();
        },
        asio::detached);
    io.run_for(10s);
    REQUIRE(st);
    REQUIRE(*st);
    CHECK(st->value()[0].spent == limit);
    CHECK(st->value()[0].held == 0);
}
