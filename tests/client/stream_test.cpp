// Streaming through the pipeline: chunks as they arrive, retries only before the first one,
// cancellation that closes the upstream and charges what streamed.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>
#include <support/scripted_transport.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using namespace std::chrono_literals;
using test::scripted;

namespace {

request question(std::string text = "tell me a story")
{
    return request{.model = "m", .messages = {user(std::move(text))}, .max_tokens = 64};
}

test::stream_script story()
{
    return {.chunks = {chunk{.text = "Once"}, chunk{.text = " upon"},
                       chunk{.text = " a time.", .finish_reason = finish_reason::stop, .usage = usage{6, 4, 0}}}};
}

using full_client = client<scripted, test::recording_rate_limit, test::recording_budget, test::recording_cache,
                           test::recording_retry, test::recording_observer, manual_clock>;

struct fixture {
    asio::io_context io;
    std::shared_ptr<test::journal> log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    full_client ai{transport,
                   test::recording_rate_limit{log},
                   test::recording_budget{log},
                   test::recording_cache{log},
                   test::recording_retry{log, 3, 0ms},
                   test::recording_observer{log}};

    // Reads the whole stream: the chunks' texts, then the error that ended it, if any.
    std::pair<std::vector<std::string>, std::optional<error>> drain(full_client::stream_type& s)
    {
        auto body = [&]() -> asio::awaitable<std::pair<std::vector<std::string>, std::optional<error>>> {
            std::vector<std::string> texts;
            while (true) {
                auto next = co_await s.next();
                if (!next)
                    co_return std::pair{texts, std::optional<error>{next.error()}};
                if (!next.value())
                    co_return std::pair{texts, std::optional<error>{}};
                texts.push_back(next.value()->text);
            }
        };
        auto out = test::run(io, body());
        REQUIRE(out);
        return *out;
    }

    bool logged(const std::string& entry) const
    {
        auto e = log->entries();
        return std::find(e.begin(), e.end(), entry) != e.end();
    }
};

} // namespace

TEST_CASE("a stream delivers its chunks in order, then commits usage and caches the whole answer", "[client][stream]")
{
    fixture f;
    f.transport.then(story());
    auto s = f.ai.stream(question());
    CHECK(f.transport.calls() == 0); // nothing sent before the first next()

    auto [texts, failure] = f.drain(s);

    CHECK_FALSE(failure);
    CHECK(texts == std::vector<std::string>{"Once", " upon", " a time."});
    CHECK(*f.ai.budget().committed == usage{6, 4, 0});
    auto& cached = f.ai.cache().entries->at("tell me a story");
    CHECK(cached.text == "Once upon a time.");
    CHECK(cached.finish_reason == finish_reason::stop);
    CHECK(f.log->entries().back() == "observe.finished");
    CHECK(f.transport.aborted_streams() == 0);
}

TEST_CASE("next() after the end keeps answering nullopt", "[client][stream]")
{
    fixture f;
    f.transport.then(story());
    auto s = f.ai.stream(question());
    f.drain(s);
    auto again = test::run(f.io, s.next());
    REQUIRE(again);
    REQUIRE(*again);
    CHECK_FALSE(again->value());
}

TEST_CASE("a cached answer is streamed as one chunk without reaching the transport", "[client][stream]")
{
    fixture f;
    f.transport.then(story());
    {
        auto first = f.ai.stream(question());
        f.drain(first);
    }
    f.log->clear();

    auto s = f.ai.stream(question());
    auto [texts, failure] = f.drain(s);
    CHECK_FALSE(failure);
    CHECK(texts == std::vector<std::string>{"Once upon a time."});
    CHECK(f.transport.calls() == 1);
    CHECK(f.logged("observe.cache_hit"));
    CHECK(f.logged("budget.release"));
    CHECK_FALSE(f.logged("budget.commit"));
}

TEST_CASE("a failure before the first chunk is retried on a fresh upstream", "[client][stream][retry]")
{
    fixture f;
    f.transport.then_fail(errc::provider_unavailable, 503).then(story());
    auto s = f.ai.stream(question());
    auto [texts, failure] = f.drain(s);
    CHECK_FALSE(failure);
    CHECK(texts.size() == 3);
    CHECK(f.transport.calls() == 2);
}

TEST_CASE("a failure after the first chunk ends the stream with that error, charges what streamed, caches nothing",
          "[client][stream]")
{
    fixture f;
    test::stream_script broken{.chunks = {chunk{.text = "Once", .usage = usage{6, 1, 0}}, chunk{.text = " upon"}}};
    error overloaded{errc::provider_unavailable, "overloaded_error"};
    overloaded.provider_type = "overloaded_error";
    broken.then_fail = overloaded;
    f.transport.then(broken).then(story());

    auto s = f.ai.stream(question());
    auto [texts, failure] = f.drain(s);

    CHECK(texts == std::vector<std::string>{"Once", " upon"});
    REQUIRE(failure);
    CHECK(*failure == errc::provider_unavailable);
    CHECK(failure->provider_type == "overloaded_error");
    CHECK(f.transport.calls() == 1); // no retry once the caller has seen a chunk
    CHECK(*f.ai.budget().committed == usage{6, 1, 0});
    CHECK(f.ai.cache().entries->empty());
}

TEST_CASE("a refused stream never reaches the transport", "[client][stream]")
{
    fixture f;
    f.ai.rate_limit().refuse = true;
    auto s = f.ai.stream(question());
    auto [texts, failure] = f.drain(s);
    CHECK(texts.empty());
    REQUIRE(failure);
    CHECK(*failure == errc::rate_limited);
    CHECK(f.transport.calls() == 0);
}

TEST_CASE("cancelling a pending next() closes the upstream and charges what streamed", "[client][stream][cancel]")
{
    fixture f;
    test::stream_script slow{.chunks = {chunk{.text = "Once", .usage = usage{6, 1, 0}}}, .then_hang = true};
    f.transport.then(slow);
    auto s = f.ai.stream(question());

    auto first = test::run(f.io, s.next());
    REQUIRE(first);
    REQUIRE(*first);
    CHECK(first->value()->text == "Once");

    asio::cancellation_signal signal;
    std::optional<result<std::optional<chunk>>> got;
    s.next(asio::bind_cancellation_slot(signal.slot(),
                                        [&](result<std::optional<chunk>> r) { got.emplace(std::move(r)); }));
    f.io.restart();
    f.io.run_for(20ms);
    CHECK_FALSE(got); // the upstream hangs
    signal.emit(asio::cancellation_type::terminal);
    f.io.restart();
    f.io.run_for(test::test_bound);

    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::cancelled);
    CHECK(f.transport.aborted_streams() == 1);
    CHECK(*f.ai.budget().committed == usage{6, 1, 0});
    CHECK(f.ai.cache().entries->empty());

    auto after = test::run(f.io, s.next());
    REQUIRE(after);
    REQUIRE(*after);
    CHECK_FALSE(after->value()); // the stream is over
}

TEST_CASE("leaving a stream early aborts the upstream and still charges what streamed", "[client][stream][cancel]")
{
    fixture f;
    f.transport.then(story());
    {
        auto s = f.ai.stream(question());
        auto first = test::run(f.io, s.next());
        REQUIRE(first);
        REQUIRE(*first);
    } // destroyed after one chunk
    f.io.restart();
    f.io.run_for(test::test_bound);

    CHECK(f.transport.aborted_streams() == 1);
    CHECK(f.logged("budget.commit"));
    CHECK(f.ai.cache().entries->empty());
    CHECK(f.log->entries().back() == "observe.finished");
}

TEST_CASE("a stream destroyed before its first next() sends nothing and charges nothing", "[client][stream]")
{
    fixture f;
    f.transport.then(story());
    {
        auto s = f.ai.stream(question());
    }
    f.io.run_for(20ms);
    CHECK(f.transport.calls() == 0);
    CHECK(f.log->entries().empty());
}

TEST_CASE("a second next() while one is pending is refused as misuse", "[client][stream]")
{
    fixture f;
    f.transport.then(test::stream_script{.then_hang = true});
    auto s = f.ai.stream(question());
    std::optional<result<std::optional<chunk>>> first, second;
    s.next([&](result<std::optional<chunk>> r) { first.emplace(std::move(r)); });
    s.next([&](result<std::optional<chunk>> r) { second.emplace(std::move(r)); });
    f.io.run_for(20ms);
    REQUIRE(second);
    REQUIRE_FALSE(*second);
    CHECK(second->error() == errc::bad_request);
    CHECK_FALSE(first);
    s.cancel();
    f.io.restart();
    f.io.run_for(test::test_bound);
    REQUIRE(first);
    CHECK(first->error() == errc::cancelled);
}

TEST_CASE("stream().next() works with use_future", "[client][stream][tokens]")
{
    fixture f;
    f.transport.then(story());
    auto s = f.ai.stream(question());
    auto fut = s.next(asio::use_future);
    f.io.run_for(test::test_bound);
    REQUIRE(fut.wait_for(0s) == std::future_status::ready);
    auto r = fut.get();
    REQUIRE(r);
    CHECK(r.value()->text == "Once");
}

TEST_CASE("tool call pieces are assembled by index into the cached answer", "[client][stream]")
{
    fixture f;
    f.transport.then(test::stream_script{
        .chunks = {chunk{.tool_calls = {tool_call_delta{.index = 0, .id = "c1", .name = "weather"}}},
                   chunk{.tool_calls = {tool_call_delta{.index = 0, .arguments = R"({"city":)"}}},
                   chunk{.tool_calls = {tool_call_delta{.index = 0, .arguments = R"("Oslo"})"}},
                         .finish_reason = finish_reason::tool_calls}}});
    auto s = f.ai.stream(question());
    f.drain(s);
    auto& cached = f.ai.cache().entries->at("tell me a story");
    REQUIRE(cached.tool_calls.size() == 1);
    CHECK(cached.tool_calls[0] == tool_call{.id = "c1", .name = "weather", .arguments = R"({"city":"Oslo"})"});
    CHECK(cached.finish_reason == finish_reason::tool_calls);
}

TEST_CASE("stream().next() works with deferred, sending nothing until started", "[client][stream][tokens]")
{
    fixture f;
    f.transport.then(story());
    auto s = f.ai.stream(question());
    auto op = s.next(asio::experimental::deferred);
    f.io.run_for(20ms);
    CHECK(f.transport.calls() == 0);

    std::optional<result<std::optional<chunk>>> got;
    std::move(op)([&](result<std::optional<chunk>> r) { got.emplace(std::move(r)); });
    f.io.restart();
    f.io.run_for(test::test_bound);
    REQUIRE(got);
    REQUIRE(*got);
    CHECK(got->value()->text == "Once");
}
