// Rate limit and budget inside llm::client, with calls from many coroutines on two threads: the
// limits hold, a cache hit and a failed call give their reservation back, and every answer
// carries its cost.
#include <llm/budget/tokens.hpp>
#include <llm/client.hpp>
#include <llm/rate_limit/token_bucket.hpp>

#include "backends.hpp"
#include "calls.hpp"
#include "support/scripted_transport.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/use_awaitable.hpp>

#include <map>
#include <mutex>

using namespace llm;
using namespace std::chrono_literals;

namespace {

// An exact cache shared by every call in flight.
struct shared_cache {
    std::shared_ptr<std::mutex> lock = std::make_shared<std::mutex>();
    std::shared_ptr<std::map<std::string, response>> entries = std::make_shared<std::map<std::string, response>>();

    std::optional<response> lookup(const request& r, time_point)
    {
        std::lock_guard hold(*lock);
        auto it = entries->find(r.messages.back().text);
        return it == entries->end() ? std::nullopt : std::optional<response>(it->second);
    }
    void store(const request& r, const response& answer, time_point)
    {
        std::lock_guard hold(*lock);
        (*entries)[r.messages.back().text] = answer;
    }
};

using limiter = rate_limit::token_bucket<store::memory, test::fixed_counter>;
using budget_type = budget::tokens<store::memory, test::fixed_counter>;
using guarded = client<test::scripted, limiter, budget_type, shared_cache, manual_clock>;

constexpr int users = 4;
constexpr int calls_per_user = 30;
constexpr int requests_per_user = 25; // per hour: the last 5 calls of each user are refused
constexpr double tenant_tokens = 3000;
constexpr int failures = 6;

} // namespace

TEST_CASE("rate limit and budget hold inside llm::client across coroutines on two threads", "[cost][client]")
{
    manual_clock::set(test::day_one + 9h);
    asio::io_context io;
    store::memory s;
    test::scripted transport{io.get_executor()};
    for (int i = 0; i < failures; ++i)
        transport.then_fail(errc::provider_unavailable, 503);
    // 110 tokens per answer, fewer than any reservation: a commit never spends beyond what it held.
    transport.otherwise(response{.text = "answer", .usage = usage{100, 10, 0}, .model = "gpt-4o-mini"});
    auto prices = cost::price_table::parse(
        R"({"as_of": "2026-11-01", "models": {"gpt-4o-mini": {"input": 0.15, "output": 0.60}}})");
    REQUIRE(prices);

    guarded ai{transport,
               limiter(s, {{.scope = rate_limit::scope::user, .requests = rate_limit::limit{requests_per_user, 1h}}}),
               budget_type(s, {.per_tenant = tenant_tokens}, {.prices = prices.value()}), shared_cache{}};

    std::mutex m;
    std::vector<result<response>> results;
    for (int u = 0; u < users; ++u)
        for (int i = 0; i < calls_per_user; ++i)
            asio::co_spawn(
                io,
                [&, u, i]() -> asio::awaitable<void> {
                    auto r = test::call("user-" + std::to_string(u), 50);
                    r.messages.back().text = "question " + std::to_string(i % 8); // repeats hit the cache
                    auto answer = co_await ai.complete(std::move(r), asio::use_awaitable);
                    std::lock_guard hold(m);
                    results.push_back(std::move(answer));
                },
                asio::detached);
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&] { io.run_for(20s); });
    for (auto& t : threads)
        t.join();
    REQUIRE(results.size() == users * calls_per_user);

    int answered = 0, cached = 0, rate_limited = 0, over_budget = 0, failed = 0;
    for (const auto& r : results) {
        if (r) {
            ++answered;
            const auto& a = r.value();
            REQUIRE(a.cost);
            if (a.cached) {
                ++cached;
                CHECK(*a.cost == 0); // a cache hit costs nothing
            } else {
                CHECK(*a.cost == Approx((100 * 0.15 + 10 * 0.60) / 1e6));
            }
            continue;
        }
        if (r.error() == errc::rate_limited)
            ++rate_limited;
        else if (r.error() == errc::budget_exceeded)
            ++over_budget;
        else if (r.error() == errc::provider_unavailable)
            ++failed;
        else
            FAIL("unexpected error: " << r.error().message);
    }
    INFO("answered " << answered << " (cached " << cached << "), rate limited " << rate_limited << ", over budget "
                     << over_budget << ", failed " << failed);
    CHECK(rate_limited == users * (calls_per_user - requests_per_user));
    CHECK(failed == failures);
    CHECK(answered + over_budget + failed == users * requests_per_user);
    CHECK(over_budget > 0); // the budget, not the script, ended the rest

    auto standing = ai.budget().status(identity{.user = "user-0", .tenant = "acme"}, manual_clock::now());
    REQUIRE(standing);
    const auto& tenant = standing.value().front();
    CHECK(tenant.held == 0); // every reservation was committed or given back: failures and cache hits too
    CHECK(tenant.spent <= tenant_tokens);
    // Only the answers that came from the transport were charged, at what they used.
    CHECK(tenant.spent == 110.0 * (answered - cached));
    CHECK(transport.calls() == static_cast<std::size_t>(answered - cached + failed));
}
