// The order of the pipeline's stages, proven with recording policies.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>
#include <support/scripted_transport.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using test::recording_budget;
using test::recording_cache;
using test::recording_observer;
using test::recording_rate_limit;
using test::scripted;

namespace {

using recorded = client<scripted, recording_rate_limit, recording_budget, recording_cache, recording_observer>;

struct fixture {
    asio::io_context io;
    std::shared_ptr<test::journal> log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};

    recorded make(bool refuse_rate = false, bool refuse_budget = false)
    {
        return recorded{transport, recording_rate_limit{log, refuse_rate}, recording_budget{log, refuse_budget},
                        recording_cache{log}, recording_observer{log}};
    }

    result<response> complete(recorded& ai, request r)
    {
        auto out = test::run(io, ai.complete(std::move(r)));
        REQUIRE(out);
        return std::move(*out);
    }
};

request question(std::string text = "What is 2+2?")
{
    return request{.model = "m", .messages = {user(std::move(text))}, .max_tokens = 50};
}

using entries = std::vector<std::string>;

} // namespace

TEST_CASE("a successful call runs every stage in order and is stored in the cache", "[client][pipeline]")
{
    fixture f;
    f.transport.then_answer("4", usage{5, 1, 0});
    auto ai = f.make();

    auto answer = f.complete(ai, question());

    REQUIRE(answer);
    CHECK(answer.value().text == "4");
    CHECK_FALSE(answer.value().cached);
    CHECK(f.log->entries() == entries{"observe.started", "rate_limit.acquire", "observe.admitted", "budget.reserve",
                                      "observe.reserved", "cache.lookup", "observe.cache_miss", "observe.attempt",
                                      "budget.commit", "observe.committed", "cache.store", "observe.cached",
                                      "observe.finished"});
    CHECK(f.transport.calls() == 1);
    CHECK(*ai.budget().committed == usage{5, 1, 0});
}

TEST_CASE("a cache hit releases the reservation and never reaches the transport", "[client][pipeline]")
{
    fixture f;
    f.transport.then_answer("4");
    auto ai = f.make();
    REQUIRE(f.complete(ai, question()));
    f.log->clear();

    auto again = f.complete(ai, question());

    REQUIRE(again);
    CHECK(again.value().text == "4");
    CHECK(again.value().cached);
    CHECK(f.log->entries() == entries{"observe.started", "rate_limit.acquire", "observe.admitted", "budget.reserve",
                                      "observe.reserved", "cache.lookup", "observe.cache_hit", "budget.release",
                                      "observe.released", "observe.finished"});
    CHECK(f.transport.calls() == 1);
}

TEST_CASE("a rate-limit refusal stops the call before budget, cache and transport", "[client][pipeline]")
{
    fixture f;
    auto ai = f.make(/*refuse_rate=*/true);

    auto answer = f.complete(ai, question());

    REQUIRE_FALSE(answer);
    CHECK(answer.error() == errc::rate_limited);
    CHECK(answer.error().retry_after == std::chrono::seconds(7));
    CHECK(f.log->entries() ==
          entries{"observe.started", "rate_limit.acquire", "observe.rate_limited", "observe.finished"});
    CHECK(f.transport.calls() == 0);
}

TEST_CASE("a budget refusal stops the call before cache and transport", "[client][pipeline]")
{
    fixture f;
    auto ai = f.make(false, /*refuse_budget=*/true);

    auto answer = f.complete(ai, question());

    REQUIRE_FALSE(answer);
    CHECK(answer.error() == errc::budget_exceeded);
    CHECK(f.log->entries() == entries{"observe.started", "rate_limit.acquire", "observe.admitted", "budget.reserve",
                                      "observe.budget_refused", "observe.finished"});
    CHECK(f.transport.calls() == 0);
}

TEST_CASE("a failed call releases its reservation and stores nothing", "[client][pipeline]")
{
    fixture f;
    f.transport.then_fail(errc::provider_unavailable, 503);
    auto ai = f.make();

    auto answer = f.complete(ai, question());

    REQUIRE_FALSE(answer);
    CHECK(answer.error() == errc::provider_unavailable);
    CHECK(answer.error().http_status == 503);
    CHECK(f.log->entries() == entries{"observe.started", "rate_limit.acquire", "observe.admitted", "budget.reserve",
                                      "observe.reserved", "cache.lookup", "observe.cache_miss", "observe.attempt",
                                      "observe.attempt_failed", "observe.route_failed", "budget.release",
                                      "observe.released", "observe.finished"});
    CHECK(ai.cache().entries->empty());
}

TEST_CASE("an invalid request is refused before any policy runs", "[client][pipeline]")
{
    fixture f;
    auto ai = f.make();

    auto answer = f.complete(ai, request{.model = "m"});

    REQUIRE_FALSE(answer);
    CHECK(answer.error() == errc::bad_request);
    CHECK_THAT(answer.error().message, Catch::Contains("messages is empty"));
    CHECK(f.log->entries() == entries{"observe.started", "observe.finished"});
    CHECK(f.transport.calls() == 0);
}
