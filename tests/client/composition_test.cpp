// How a client is composed: policies in any order, null defaults that cost nothing, and
// policies written by users, including ones whose hooks are coroutines.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>
#include <support/scripted_transport.hpp>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using test::scripted;

namespace {

// The smallest model transport: empty, echoes the last message.
struct echo {
    using executor_type = asio::io_context::executor_type;
    asio::io_context* io;
    executor_type get_executor() const { return io->get_executor(); }
    template <class Handler>
    void async_complete(const request& r, Handler&& h)
    {
        asio::post(*io, [h = std::forward<Handler>(h), text = r.messages.back().text]() mutable {
            std::move(h)(result<response>{response{.text = text}});
        });
    }
    struct up {
        template <class Handler>
        void async_next(Handler&&)
        {
        }
        void cancel() {}
    };
    up open(const request&) { return {}; }
};
struct empty_transport : echo::up {
    using executor_type = asio::io_context::executor_type;
    executor_type get_executor() const;
    template <class Handler>
    void async_complete(const request&, Handler&&);
    echo::up open(const request&);
};

} // namespace

// Zero overhead: absent layers take no space.
static_assert(std::is_empty_v<empty_transport>);
static_assert(sizeof(client<empty_transport>) == sizeof(empty_transport));
static_assert(sizeof(client<scripted>) == sizeof(scripted));
static_assert(sizeof(client<echo>) == sizeof(echo));
static_assert(sizeof(client<scripted, retry::none, cache::none, budget::none, rate_limit::none, fallback::none,
                            observe::none, system_clock>) == sizeof(scripted));
static_assert(client<scripted>::bare && !client<scripted, test::recording_observer>::bare);

// Order does not matter; omitted slots default to their null policy.
static_assert(std::is_same_v<client<test::recording_retry, scripted>::retry_type, test::recording_retry>);
static_assert(std::is_same_v<client<scripted, test::recording_retry>::retry_type, test::recording_retry>);
static_assert(std::is_same_v<client<scripted>::cache_type, cache::none>);
static_assert(std::is_same_v<client<scripted>::clock_type, system_clock>);
static_assert(std::is_same_v<client<manual_clock, scripted>::clock_type, manual_clock>);

TEST_CASE("constructor arguments go to their slots in any order", "[client][composition]")
{
    asio::io_context io;
    auto log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    using both = client<scripted, test::recording_retry, test::recording_observer>;

    both a{test::recording_retry{log, 7}, transport, test::recording_observer{log}};
    both b{test::recording_observer{log}, test::recording_retry{log, 9}, transport};
    CHECK(a.retry().attempts == 7);
    CHECK(b.retry().attempts == 9);
    CHECK(a.observer().log == log);
}

TEST_CASE("the smallest user-written transport works through the pipeline", "[client][composition]")
{
    asio::io_context io;
    client<echo> ai{echo{&io}};
    auto r = test::run(io, ai.complete(request{.messages = {user("ping")}}));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().text == "ping");
}

namespace {

// A user-written policy whose hooks are coroutines, as a cache over a network store would be:
// lookups take a trip through the executor before they answer.
struct async_cache {
    std::shared_ptr<std::map<std::string, response>> entries = std::make_shared<std::map<std::string, response>>();
    std::shared_ptr<int> trips = std::make_shared<int>(0);

    asio::awaitable<std::optional<response>> lookup(const request& r, time_point)
    {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        ++*trips;
        auto it = entries->find(r.messages.back().text);
        co_return it == entries->end() ? std::nullopt : std::optional<response>(it->second);
    }
    asio::awaitable<void> store(const request& r, const response& answer, time_point)
    {
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
        ++*trips;
        (*entries)[r.messages.back().text] = answer;
    }
};
static_assert(cache_policy<async_cache>);

} // namespace

TEST_CASE("a user-written policy with asynchronous hooks plugs into the pipeline", "[client][composition]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_answer("computed once");
    client<scripted, async_cache> ai{transport};

    auto first = test::run(io, ai.complete(request{.messages = {user("q")}}));
    auto second = test::run(io, ai.complete(request{.messages = {user("q")}}));

    REQUIRE(first);
    REQUIRE(*first);
    REQUIRE(second);
    REQUIRE(*second);
    CHECK_FALSE(first->value().cached);
    CHECK(second->value().cached);
    CHECK(second->value().text == "computed once");
    CHECK(transport.calls() == 1);
    CHECK(*ai.cache().trips == 3); // miss, store, hit
}

TEST_CASE("transport::none answers every call with provider_unavailable", "[client][composition]")
{
    client<transport::none> ai;
    auto r = ai.complete(request{.messages = {user("anyone?")}}, asio::use_future).get();
    REQUIRE_FALSE(r);
    CHECK(r.error() == errc::provider_unavailable);
}

TEST_CASE("a bare client still refuses an invalid request, without calling the transport", "[client][composition]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    client<scripted> ai{transport};
    auto r = test::run(io, ai.complete(request{}));
    REQUIRE(r);
    REQUIRE_FALSE(*r);
    CHECK(r->error() == errc::bad_request);
    CHECK(transport.calls() == 0);
}
