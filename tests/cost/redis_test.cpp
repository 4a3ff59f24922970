// store::redis against a real redis-server: the server going away and coming back, and the same
// outcomes as the C++ operations.
#include <llm/rate_limit/token_bucket.hpp>

#include "backends.hpp"
#include "support/run.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>

#include <functional>

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

TEST_CASE("Lua and C++ operations give the same outcomes", "[cost][redis]")
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
        rate_limit::bucket_take op{.give_back = next(10) == 0};
        op.limits.push_back({5, 1000, static_cast<double>(1 + next(2))});
        op.limits.push_back({1000, 60'000, static_cast<double>(next(300))});
        store::steps<rate_limit::bucket_take> batch;
        batch.push_back({"parity:" + std::to_string(next(3)), op});
        auto a = m.apply(std::span<const store::step<rate_limit::bucket_take>>(batch.begin(), batch.size()), now);
        auto b = t.answer(
            t.store.apply(std::span<const store::step<rate_limit::bucket_take>>(batch.begin(), batch.size()), now));
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
