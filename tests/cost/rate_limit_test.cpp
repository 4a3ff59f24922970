// Rate limits per identity: token bucket and sliding window, on every store, on the manual
// clock.
#include <llm/rate_limit/headers.hpp>
#include <llm/rate_limit/sliding_window.hpp>
#include <llm/rate_limit/token_bucket.hpp>

#include "backends.hpp"

#include <atomic>
#include <thread>
#include <vector>

using namespace llm;
using namespace std::chrono_literals;

namespace {

const time_point start = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 24}} + 9h;

request for_user(std::string name, std::uint32_t max_tokens = 100)
{
    request r;
    r.model = "gpt-4o-mini";
    r.messages = {llm::user("hello")};
    r.max_tokens = max_tokens;
    r.identity.user = std::move(name);
    r.identity.tenant = "acme";
    return r;
}

} // namespace

TEMPLATE_TEST_CASE("a token bucket admits its burst, then refuses with when to retry", "[cost][rate_limit]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType b;
    auto limit = rate_limit::token_bucket<decltype(b.store)>(
        b.store, {{.scope = rate_limit::scope::user, .requests = rate_limit::limit{3, 1s}}});
    const auto alice = for_user("alice");

    for (int i = 0; i < 3; ++i)
        CHECK(b.answer(limit.acquire(alice, start)));
    auto refused = b.answer(limit.acquire(alice, start));
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::rate_limited);
    REQUIRE(refused.error().retry_after);
    CHECK(*refused.error().retry_after == 334ms); // one request refills every 333.3 ms
    REQUIRE(refused.error().quota);
    CHECK(refused.error().quota->limit == 3);
    CHECK(refused.error().quota->remaining == 0);
    CHECK(refused.error().quota->reset == 1000ms);
    CHECK_FALSE(refused.error().quota->tokens);
    CHECK(refused.error().message.find("user 'alice'") != std::string::npos);

    // Another user has a bucket of its own.
    CHECK(b.answer(limit.acquire(for_user("bob"), start)));

    // Not one millisecond early.
    CHECK_FALSE(b.answer(limit.acquire(alice, start + 333ms)));
    CHECK(b.answer(limit.acquire(alice, start + 334ms)));
    CHECK_FALSE(b.answer(limit.acquire(alice, start + 334ms)));

    // A full window later the whole burst is back.
    for (int i = 0; i < 3; ++i)
        CHECK(b.answer(limit.acquire(alice, start + 2s)));
}

TEMPLATE_TEST_CASE("a token limit counts the prompt and max_tokens, and says when a call can never fit",
                   "[cost][rate_limit]", test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType b;
    auto limit = rate_limit::token_bucket<decltype(b.store), token::upper_bound>(
        b.store, {{.scope = rate_limit::scope::tenant, .tokens = rate_limit::limit{1000, 1min}}});
    auto r = for_user("alice", 400);
    const auto cost = static_cast<std::int64_t>(token::upper_bound::count(r)) + 400;

    CHECK(b.answer(limit.acquire(r, start)));
    CHECK(b.answer(limit.acquire(for_user("bob", 400), start))); // the same tenant pays
    auto refused = b.answer(limit.acquire(r, start));
    REQUIRE_FALSE(refused);
    REQUIRE(refused.error().quota);
    CHECK(refused.error().quota->tokens);
    CHECK(refused.error().quota->remaining == 1000 - 2 * cost);
    CHECK(refused.error().retry_after);

    auto huge = for_user("carol", 5000);
    huge.identity.tenant = "other";
    auto never = b.answer(limit.acquire(huge, start));
    REQUIRE_FALSE(never);
    CHECK(never.error() == errc::rate_limited);
    CHECK_FALSE(never.error().retry_after);
    CHECK(never.error().message.find("more than the limit") != std::string::npos);
}

TEMPLATE_TEST_CASE("a call refused by one rule gives back what the other rules took", "[cost][rate_limit]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType b;
    auto limit = rate_limit::token_bucket<decltype(b.store)>(
        b.store, {{.scope = rate_limit::scope::user, .requests = rate_limit::limit{2, 1h}},
                  {.scope = rate_limit::scope::global, .requests = rate_limit::limit{3, 1h}}});
    CHECK(b.answer(limit.acquire(for_user("alice"), start)));
    CHECK(b.answer(limit.acquire(for_user("bob"), start)));
    CHECK(b.answer(limit.acquire(for_user("carol"), start)));
    // The global limit refuses dave; his own bucket must not lose a request for it.
    auto refused = b.answer(limit.acquire(for_user("dave"), start));
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("all calls") != std::string::npos);
    auto status = b.answer(limit.status(for_user("dave"), start));
    REQUIRE(status);
    CHECK(status.value().remaining == 2);
}

TEMPLATE_TEST_CASE("a sliding window weighs the previous window by the part it still covers", "[cost][rate_limit]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType b;
    auto limit = rate_limit::sliding_window<decltype(b.store)>(
        b.store, {{.scope = rate_limit::scope::feature, .requests = rate_limit::limit{10, 1min}}});
    auto r = for_user("alice");
    r.identity.feature = "summarize";
    const auto window = time_point{std::chrono::floor<std::chrono::minutes>(start.time_since_epoch())};

    for (int i = 0; i < 10; ++i)
        CHECK(b.answer(limit.acquire(r, window + 50s)));
    auto refused = b.answer(limit.acquire(r, window + 50s));
    REQUIRE_FALSE(refused);
    // Past the window's end the ten calls are the previous window: a quarter of the way into the
    // next, 7.5 of them still count, so two calls fit and the third does not.
    CHECK(*refused.error().retry_after == 10s + 6s); // at 6 s, 9 still count and one fits
    CHECK(b.answer(limit.acquire(r, window + 1min + 15s)));
    CHECK(b.answer(limit.acquire(r, window + 1min + 15s)));
    CHECK_FALSE(b.answer(limit.acquire(r, window + 1min + 15s)));
    // Two windows later nothing counts.
    auto status = b.answer(limit.status(r, window + 3min));
    REQUIRE(status);
    CHECK(status.value().remaining == 10);
}

TEST_CASE("rate-limit headers round seconds up, so a client that waits as told is never early", "[cost][rate_limit]")
{
    error e{errc::rate_limited};
    e.retry_after = 1001ms;
    e.quota = quota{.limit = 60, .remaining = 0, .reset = 59'500ms, .window = 1min};
    const auto h = rate_limit::headers(e);
    REQUIRE(h.size() == 4);
    CHECK(h[0] == std::pair<std::string, std::string>{"Retry-After", "2"});
    CHECK(h[1] == std::pair<std::string, std::string>{"X-RateLimit-Limit", "60"});
    CHECK(h[2] == std::pair<std::string, std::string>{"X-RateLimit-Remaining", "0"});
    CHECK(h[3] == std::pair<std::string, std::string>{"X-RateLimit-Reset", "60"});
    CHECK(rate_limit::headers(error{errc::timeout}).empty());
}

TEST_CASE("impossible rate-limit rules are refused at construction", "[cost][rate_limit]")
{
    store::memory s;
    using limiter = rate_limit::token_bucket<store::memory>;
    auto message_of = [&](std::vector<rate_limit::rule> rules, rate_limit::options o = {}) {
        auto made = limiter::create(s, std::move(rules), std::move(o));
        REQUIRE_FALSE(made);
        CHECK(made.error() == errc::invalid_configuration);
        return made.error().message;
    };
    CHECK(message_of({}).find("no rules") != std::string::npos);
    CHECK(message_of({{.requests = rate_limit::limit{-1, 1s}}}).find("must be positive") != std::string::npos);
    CHECK(message_of({{.requests = rate_limit::limit{0, 1s}}}).find("must be positive") != std::string::npos);
    CHECK(message_of({{.tokens = rate_limit::limit{10, 0s}}}).find("at least 1 ms") != std::string::npos);
    CHECK(message_of({{.scope = rate_limit::scope::user}}).find("neither") != std::string::npos);
    CHECK(
        message_of({{.scope = rate_limit::scope::custom, .requests = rate_limit::limit{1, 1s}}}).find("key function") !=
        std::string::npos);
    CHECK(message_of({{.requests = rate_limit::limit{1, 1s}}}, {.assumed_output_tokens = -5})
              .find("assumed_output_tokens") != std::string::npos);
    CHECK_THROWS_AS(limiter(s, {}), std::system_error);
}

TEST_CASE("a custom key function groups calls as the application says", "[cost][rate_limit]")
{
    store::memory s;
    auto limit = rate_limit::token_bucket<store::memory>(s, {{.scope = rate_limit::scope::custom,
                                                              .requests = rate_limit::limit{1, 1h},
                                                              .key = [](const request& r) { return r.model; }}});
    auto a = for_user("alice");
    auto b = for_user("bob");
    CHECK(limit.acquire(a, start));
    CHECK_FALSE(limit.acquire(b, start)); // same model, same key
    b.model = "gpt-4o";
    CHECK(limit.acquire(b, start));
}

TEST_CASE("an unreachable store refuses calls, or admits them when told to fail open", "[cost][rate_limit]")
{
    const std::vector<rate_limit::rule> rules{{.requests = rate_limit::limit{1, 1s}}};
    auto closed = rate_limit::token_bucket<test::unreachable_store>(test::unreachable_store{}, rules);
    auto refused = closed.acquire(for_user("alice"), start);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::store_unavailable);
    CHECK(refused.error().message.find("connection refused") != std::string::npos);

    auto open =
        rate_limit::token_bucket<test::unreachable_store>(test::unreachable_store{}, rules, {.fail_open = true});
    CHECK(open.acquire(for_user("alice"), start));
}

TEMPLATE_TEST_CASE("many threads on one bucket never admit one request beyond it", "[cost][rate_limit]",
                   test::memory_backend, test::sqlite_backend, test::redis_backend)
{
    TestType b;
    auto limit = rate_limit::token_bucket<decltype(b.store)>(
        b.store, {{.scope = rate_limit::scope::tenant, .requests = rate_limit::limit{500, 24h}}});
    std::atomic<int> admitted = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i)
                if (b.answer(limit.acquire(for_user("user" + std::to_string(t * 1000 + i)), start)))
                    ++admitted;
        });
    for (auto& t : threads)
        t.join();
    CHECK(admitted == 500);
}
