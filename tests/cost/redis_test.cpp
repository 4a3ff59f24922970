// store::redis against a real redis-server: the server going away and coming back, and the same
// outcomes as the C++ operations.
#include <llm/budget/tokens.hpp>
#include <llm/rate_limit/sliding_window.hpp>
#include <llm/rate_limit/token_bucket.hpp>

#include "backends.hpp"
#include "calls.hpp"
#include "support/run.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <system_error>

using namespace llm;
using namespace std::chrono_literals;

namespace {

const time_point noon = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}} + 12h;

request from(std::string user)
{
    request r;
    r.model = "m";
    r.messages = {llm::user("hi")};
    r.identity.user = std::move(user);
    return r;
}

} // namespace

TEST_CASE("a stopped Redis fails closed or open as configured, and the store recovers when it is back", "[cost][redis]")
{
    test::redis_backend t;
    const std::vector<rate_limit::rule> rules{{.requests = rate_limit::limit{2, 1h}}};
    rate_limit::token_bucket<store::redis> closed(t.store, rules);
    rate_limit::token_bucket<store::redis> open(t.store, rules, {.prefix = "open", .fail_open = true});

    CHECK(t.answer(closed.acquire(from("alice"), noon)));

    t.server.stop();
    auto refused = t.answer(closed.acquire(from("alice"), noon));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::store_unavailable);
    CHECK(refused.error().message.find("store::redis 127.0.0.1:" + std::to_string(t.server.port())) !=
          std::string::npos);
    CHECK(t.answer(open.acquire(from("alice"), noon))); // admitted unchecked

    t.server.start(); // empty: no keys, no scripts
    CHECK(t.answer(closed.acquire(from("alice"), noon)));
    CHECK(t.answer(closed.acquire(from("alice"), noon)));
    CHECK_FALSE(t.answer(closed.acquire(from("alice"), noon)));
}

TEST_CASE("an unreachable Redis is a clear error, not a hang", "[cost][redis]")
{
    asio::io_context io;
    test::redis_server probe; // a port that is free once it stops
    const auto port = probe.port();
    probe.stop();
    store::redis s(io.get_executor(), {.port = port, .connect_timeout = 500ms});
    auto got = test::run(io, s.get("anything", noon));
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::store_unavailable);
    CHECK(got->error().message.find("cannot connect") != std::string::npos);
}

TEST_CASE("a server that accepts but never answers times out every call, and is left", "[cost][redis]")
{
    // A listener that takes connections and reads nothing: the calls queue behind one another.
    asio::io_context io;
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
    std::vector<asio::ip::tcp::socket> held;
    std::function<void()> accept = [&] {
        silent.async_accept([&](std::error_code ec, asio::ip::tcp::socket sock) {
            if (!ec) {
                held.push_back(std::move(sock));
                accept();
            }
        });
    };
    accept();
    store::redis s(io.get_executor(), {.port = silent.local_endpoint().port(), .command_timeout = 150ms});
    // The calls, all at once; the io_context stops when each has its answer (the listener would
    // keep it running), or at the bound.
    const auto calls = [&](std::size_t n) {
        std::vector<std::optional<result<std::optional<std::string>>>> got(n);
        std::size_t done = 0;
        for (auto& g : got)
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    g.emplace(co_await s.get("k", noon));
                    if (++done == got.size())
                        io.stop();
                },
                asio::detached);
        io.restart();
        io.run_for(test::test_bound);
        return got;
    };
    for (const auto& g : calls(3)) {
        REQUIRE(g);
        REQUIRE_FALSE(*g);
        CHECK(g->error() == errc::store_unavailable);
        CHECK_THAT(g->error().message, Catch::Contains("no reply within 150 ms"));
    }
    // The connection is dropped: the next call opens another, and times out the same way.
    const auto again = calls(1);
    REQUIRE(again[0]);
    REQUIRE_FALSE(*again[0]);
    CHECK_THAT(again[0]->error().message, Catch::Contains("no reply within 150 ms"));
    CHECK(held.size() == 2);
}

TEMPLATE_TEST_CASE("Lua and C++ operations give the same outcomes", "[cost][redis]", rate_limit::bucket_take,
                   rate_limit::window_take)
{
    test::redis_backend t;
    store::memory m;
    std::uint64_t seed = 12345;
    auto next = [&](std::uint64_t n) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return (seed >> 33) % n;
    };
    time_point now = noon;
    for (int i = 0; i < 400; ++i) {
        now += std::chrono::milliseconds(next(700));
        TestType op{.give_back = next(10) == 0};
        op.limits.push_back({5, 1000, static_cast<double>(1 + next(2))});
        if (next(3) != 0) // one limit or two: a cell of two numbers or three
            op.limits.push_back({1000, 60'000, static_cast<double>(next(300))});
        store::steps<TestType> batch;
        batch.push_back({"parity:" + std::to_string(next(3)), op});
        auto a = m.apply(std::span<const store::step<TestType>>(batch.begin(), batch.size()), now);
        auto b = t.answer(t.store.apply(std::span<const store::step<TestType>>(batch.begin(), batch.size()), now));
        REQUIRE(a);
        REQUIRE(b);
        const auto& x = a.value()[0];
        const auto& y = b.value()[0];
        INFO("step " << i);
        CHECK(x.admitted == y.admitted);
        CHECK(x.binding == y.binding);
        CHECK(x.remaining == y.remaining);
        CHECK(x.retry_after == y.retry_after);
        CHECK(x.reset == y.reset);
    }
}

TEST_CASE("store::redis keeps values with a time to live", "[cost][redis]")
{
    test::redis_backend t;
    CHECK(t.answer(t.store.put("k", "value with spaces\r\n", 60s, noon)));
    auto got = t.answer(t.store.get("k", noon));
    REQUIRE(got);
    CHECK(got.value() == std::optional<std::string>("value with spaces\r\n"));
    CHECK(t.answer(t.store.put("k", "", 0s, noon)));
    CHECK(t.answer(t.store.get("k", noon)).value() == std::nullopt);
}

namespace {

// Runs every body at once on one thread (so they all submit in the same turn of the store's
// strand), and returns their results once all have answered, or what answered within the bound.
template <class T>
std::vector<std::optional<T>> all_at_once(asio::io_context& io, std::vector<std::function<asio::awaitable<T>()>> bodies)
{
    std::vector<std::optional<T>> got(bodies.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < bodies.size(); ++i)
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                got[i].emplace(co_await bodies[i]());
                if (++done == bodies.size())
                    io.stop(); // the connection's reader would keep run() going
            },
            asio::detached);
    io.restart();
    io.run_for(test::test_bound);
    return got;
}

// One raw command's reply, with the io_context stopped once it is in.
store::redis::reply command(asio::io_context& io, store::redis& s, std::initializer_list<std::string_view> args)
{
    std::string text = store::redis::command(args);
    auto got = all_at_once<result<std::vector<store::redis::reply>>>(
        io, {[&s, text]() -> asio::awaitable<result<std::vector<store::redis::reply>>> { return s.exec(text, 1); }});
    REQUIRE(got[0]);
    REQUIRE(*got[0]);
    return got[0]->value().front();
}

// How many script calls (EVALSHA and EVAL) the server has run since the last reset.
std::int64_t script_calls(asio::io_context& io, store::redis& s)
{
    const auto text = command(io, s, {"INFO", "commandstats"}).text;
    std::int64_t calls = 0;
    for (const std::string_view name : {"cmdstat_evalsha:calls=", "cmdstat_eval:calls="})
        if (const auto at = text.find(name); at != std::string::npos)
            calls += std::stoll(text.substr(at + name.size()));
    return calls;
}

using checked = decltype(std::declval<rate_limit::token_bucket<store::redis>&>().acquire(request{}, noon))::value_type;

std::vector<std::function<asio::awaitable<checked>()>> checks_of(rate_limit::token_bucket<store::redis>& limiter,
                                                                 const std::vector<std::string>& users)
{
    std::vector<std::function<asio::awaitable<checked>()>> out;
    for (const auto& u : users)
        out.push_back([&limiter, u]() -> asio::awaitable<checked> {
            const auto r = from(u); // lives as long as the check
            co_return co_await limiter.acquire(r, noon);
        });
    return out;
}

// One check, so that the server knows the script and the counts that follow are all EVALSHA.
void warm_up(asio::io_context& io, rate_limit::token_bucket<store::redis>& limiter)
{
    REQUIRE(all_at_once(io, checks_of(limiter, {"warm-up"}))[0]);
}

std::vector<std::string> users(std::size_t n)
{
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i)
        out.push_back("user-" + std::to_string(i));
    return out;
}

} // namespace

TEST_CASE("steps submitted together share script calls, each with its own outcome", "[cost][redis]")
{
    test::redis_server server;
    asio::io_context io;
    store::redis s(io.get_executor(), {.port = server.port()});
    rate_limit::token_bucket<store::redis> limiter(s, {{.requests = rate_limit::limit{1, 1h}}});
    const auto who = users(200);
    warm_up(io, limiter);
    command(io, s, {"CONFIG", "RESETSTAT"});

    const auto first = all_at_once(io, checks_of(limiter, who));
    for (const auto& got : first) {
        REQUIRE(got);
        CHECK(*got); // each user's one request
    }
    CHECK(script_calls(io, s) == 4); // 200 steps, at most 64 to a script call

    const auto second = all_at_once(io, checks_of(limiter, who));
    for (const auto& got : second) {
        REQUIRE(got);
        REQUIRE_FALSE(*got);
        CHECK(got->error() == errc::rate_limited);
    }
}

TEST_CASE("max_batch 1 sends every step in a script call of its own", "[cost][redis]")
{
    test::redis_server server;
    asio::io_context io;
    store::redis s(io.get_executor(), {.port = server.port(), .max_batch = 1});
    rate_limit::token_bucket<store::redis> limiter(s, {{.requests = rate_limit::limit{1, 1h}}});
    warm_up(io, limiter);
    command(io, s, {"CONFIG", "RESETSTAT"});
    for (const auto& got : all_at_once(io, checks_of(limiter, users(20)))) {
        REQUIRE(got);
        CHECK(*got);
    }
    CHECK(script_calls(io, s) == 20);
}

TEST_CASE("in cluster mode a script call joins only keys of one hash slot", "[cost][redis]")
{
    // Redis Cluster's own example: the slot of "123456789" is CRC16 0x31C3 modulo 16384.
    CHECK(store::redis::slot_of("123456789") == 12739);
    CHECK(store::redis::slot_of("{user1000}.following") == store::redis::slot_of("{user1000}.followers"));
    CHECK(store::redis::slot_of("foo{}{bar}") != store::redis::slot_of("bar")); // an empty tag: the whole key
    CHECK(store::redis::slot_of("foo{{bar}}zap") == store::redis::slot_of("{bar"));
    CHECK(store::redis::slot_of("a{bar}") == store::redis::slot_of("bar"));

    test::redis_server server;
    asio::io_context io;
    store::redis s(io.get_executor(), {.port = server.port(), .cluster = true});
    rate_limit::token_bucket<store::redis> limiter(s, {{.requests = rate_limit::limit{100, 1h}}});
    // Ten users in ten different slots, and ten calls of one user.
    auto who = users(10);
    std::set<std::uint16_t> slots;
    for (const auto& u : who)
        slots.insert(store::redis::slot_of(store::scoped_key("llm", "u", u, "")));
    REQUIRE(slots.size() == 10);
    warm_up(io, limiter);
    command(io, s, {"CONFIG", "RESETSTAT"});
    for (const auto& got : all_at_once(io, checks_of(limiter, who))) {
        REQUIRE(got);
        CHECK(*got);
    }
    CHECK(script_calls(io, s) == 10);

    command(io, s, {"CONFIG", "RESETSTAT"});
    for (const auto& got : all_at_once(io, checks_of(limiter, std::vector<std::string>(10, "user-0")))) {
        REQUIRE(got);
        CHECK(*got);
    }
    CHECK(script_calls(io, s) == 1);
}

TEST_CASE("a step that fails in a shared script call fails alone", "[cost][redis]")
{
    test::redis_server server;
    asio::io_context io;
    store::redis s(io.get_executor(), {.port = server.port()});
    // A list where a counter is expected: its step's GET fails with WRONGTYPE.
    command(io, s, {"RPUSH", "not-a-counter", "x"});
    command(io, s, {"CONFIG", "RESETSTAT"});

    using added = result<store::outcomes<store::add::outcome>>;
    const auto adding = [&s](std::string key) -> std::function<asio::awaitable<added>()> {
        return [&s, key] {
            store::steps<store::add> one;
            one.push_back({key, store::add{.delta = 5, .keep = 1h}});
            // The steps live in the coroutine, so the span stays valid.
            return [](store::redis st, store::steps<store::add> steps) -> asio::awaitable<added> {
                co_return co_await st.apply(std::span<const store::step<store::add>>(steps.begin(), steps.size()),
                                            noon);
            }(s, one);
        };
    };
    const auto got = all_at_once<added>(io, {adding("a"), adding("not-a-counter"), adding("b")});
    for (const auto& g : got)
        REQUIRE(g);
    REQUIRE(*got[0]);
    CHECK(got[0]->value()[0].total == 5);
    REQUIRE_FALSE(*got[1]);
    CHECK(got[1]->error() == errc::store_unavailable);
    CHECK_THAT(got[1]->error().message, Catch::Contains("WRONGTYPE"));
    REQUIRE(*got[2]);
    CHECK(got[2]->value()[0].total == 5);
    CHECK(script_calls(io, s) == 2); // EVALSHA, NOSCRIPT, then EVAL
}

TEST_CASE("store::redis refuses a max_batch out of range", "[cost][redis]")
{
    asio::io_context io;
    for (const std::size_t bad : {std::size_t{0}, std::size_t{1025}}) {
        try {
            store::redis s(io.get_executor(), {.max_batch = bad});
            FAIL("no error for " << bad);
        } catch (const std::system_error& e) {
            CHECK(e.code() == errc::invalid_configuration);
            CHECK_THAT(e.what(), Catch::Contains("max_batch must be between 1 and 1024"));
        }
    }
}

TEST_CASE("a script reply of the wrong shape fails its steps with a clear error", "[cost][redis]")
{
    // A server that answers whatever it is sent with one canned reply.
    const auto number = [](double v) {
        std::string out(8, '\0');
        std::memcpy(out.data(), &v, 8); // the tests run on little-endian hosts, as the wire is
        return "*1\r\n$8\r\n" + out + "\r\n";
    };
    const std::vector<std::pair<std::string, std::string>> cases{
        {"an integer", ":1\r\n"},
        {"numbers that end early", number(6)},
        {"a failed step without its error", number(-1)},
        {"more numbers than an outcome has", number(1000)},
        {"a count that is a fraction", number(0.5)},
        {"a count that is not a number", number(std::numeric_limits<double>::quiet_NaN())},
        {"an empty array", "*0\r\n"},
    };
    for (const auto& c : cases) {
        INFO(c.first);
        const std::string& canned = c.second; // a reference the lambdas may capture (not a binding)
        asio::io_context io;
        asio::ip::tcp::acceptor fake(io, {asio::ip::make_address_v4("127.0.0.1"), 0});
        asio::ip::tcp::socket peer(io);
        std::array<char, 4096> request{};
        fake.async_accept(peer, [&](std::error_code ec) {
            if (!ec)
                peer.async_read_some(asio::buffer(request), [&](std::error_code, std::size_t) {
                    asio::async_write(peer, asio::buffer(canned), [](std::error_code, std::size_t) {});
                });
        });
        store::redis s(io.get_executor(), {.port = fake.local_endpoint().port()});
        store::steps<store::add> one;
        one.push_back({"k", store::add{.delta = 1, .keep = 1h}});
        auto got = all_at_once<result<store::outcomes<store::add::outcome>>>(
            io, {[&s, one]() -> asio::awaitable<result<store::outcomes<store::add::outcome>>> {
                const auto steps = one;
                co_return co_await s.apply(std::span<const store::step<store::add>>(steps.begin(), steps.size()), noon);
            }});
        REQUIRE(got[0]);
        REQUIRE_FALSE(*got[0]);
        CHECK(got[0]->error() == errc::store_unavailable);
        CHECK_THAT(got[0]->error().message, Catch::Contains("unexpected reply to EVALSHA"));
    }
}

TEST_CASE("in cluster mode a call whose keys lie in two slots is answered once both script calls are", "[cost][redis]")
{
    test::redis_server server;
    asio::io_context io;
    store::redis s(io.get_executor(), {.port = server.port(), .cluster = true});
    budget::tokens<store::redis, test::fixed_counter> budget(s, {.per_user = 1000, .per_tenant = 450});
    REQUIRE(store::redis::slot_of(store::scoped_key("llm", "u", "alice", "")) !=
            store::redis::slot_of(store::scoped_key("llm", "t", "acme", "")));
    using reserved = decltype(budget.reserve(std::declval<request&>(), test::day_one))::value_type;
    const auto reserving = [&budget]() -> asio::awaitable<reserved> {
        auto r = test::call("alice", 200); // 100 in, 200 out: 300 held in each scope
        co_return co_await budget.reserve(r, test::day_one);
    };
    command(io, s, {"CONFIG", "RESETSTAT"});
    const auto first = all_at_once<reserved>(io, {reserving});
    REQUIRE(first[0]);
    REQUIRE(*first[0]);
    CHECK(first[0]->value().held == 300);
    CHECK(script_calls(io, s) == 4); // the user's and the tenant's, each EVALSHA then EVAL

    // The tenant has 150 left: the second call is held to that in both scopes, its answer clamped.
    const auto second = all_at_once<reserved>(io, {reserving});
    REQUIRE(second[0]);
    REQUIRE(*second[0]);
    CHECK(second[0]->value().held == 150);
}
