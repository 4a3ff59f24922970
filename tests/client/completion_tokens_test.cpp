// complete() and stream().next() follow Asio's universal model: any completion token, and
// per-operation cancellation.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>
#include <support/scripted_transport.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using namespace std::chrono_literals;
using test::scripted;

namespace {

request question()
{
    return request{.model = "m", .messages = {user("hi")}};
}

// The same pipeline with and without layers: the bare one forwards straight to the transport.
using bare_client = client<scripted>;
using layered_client = client<scripted, test::recording_observer>;

template <class Client>
Client make(scripted& transport)
{
    if constexpr (std::is_same_v<Client, bare_client>)
        return Client{transport};
    else
        return Client{transport, test::recording_observer{std::make_shared<test::journal>()}};
}

} // namespace

TEMPLATE_TEST_CASE("complete() with a callback calls it once, after the initiating call returns", "[client][tokens]",
                   bare_client, layered_client)
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_answer("hello");
    auto ai = make<TestType>(transport);

    int calls = 0;
    std::string text;
    ai.complete(question(), [&](result<response> r) {
        ++calls;
        REQUIRE(r);
        text = r.value().text;
    });
    CHECK(calls == 0); // never inside the initiating function
    io.run_for(test::test_bound);
    CHECK(calls == 1);
    CHECK(text == "hello");
}

TEMPLATE_TEST_CASE("complete() with use_future delivers the result to another thread", "[client][tokens]", bare_client,
                   layered_client)
{
    asio::thread_pool pool(1);
    scripted transport{pool.get_executor()};
    transport.then_answer("from the pool");
    auto ai = make<TestType>(transport);

    std::future<result<response>> answer = ai.complete(question(), asio::use_future);
    REQUIRE(answer.wait_for(test::test_bound) == std::future_status::ready);
    auto r = answer.get();
    REQUIRE(r);
    CHECK(r.value().text == "from the pool");
    pool.join();
}

TEST_CASE("complete() with use_awaitable is awaited in a coroutine", "[client][tokens]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_answer("awaited");
    auto ai = make<layered_client>(transport);

    auto r = test::run(io, ai.complete(question(), asio::use_awaitable));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().text == "awaited");
}

TEST_CASE("complete() with deferred sends nothing until the deferred operation is started", "[client][tokens]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_answer("later");
    auto ai = make<layered_client>(transport);

    auto op = ai.complete(question(), asio::experimental::deferred);
    io.run_for(20ms);
    CHECK(transport.calls() == 0);

    std::optional<result<response>> got;
    std::move(op)([&](result<response> r) { got.emplace(std::move(r)); });
    io.restart();
    io.run_for(test::test_bound);
    REQUIRE(got);
    REQUIRE(*got);
    CHECK(got->value().text == "later");
    CHECK(transport.calls() == 1);
}

TEMPLATE_TEST_CASE("a cancellation signal aborts a call in flight with errc::cancelled", "[client][tokens][cancel]",
                   bare_client, layered_client)
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then(test::hang{});
    auto ai = make<TestType>(transport);

    asio::cancellation_signal signal;
    std::optional<result<response>> got;
    ai.complete(question(),
                asio::bind_cancellation_slot(signal.slot(), [&](result<response> r) { got.emplace(std::move(r)); }));
    io.run_for(20ms);
    CHECK_FALSE(got); // still hanging
    signal.emit(asio::cancellation_type::terminal);
    io.restart();
    io.run_for(test::test_bound);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::cancelled);
}

TEST_CASE("a cancelled call releases its budget reservation", "[client][tokens][cancel]")
{
    asio::io_context io;
    auto log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    transport.then(test::hang{});
    client<scripted, test::recording_budget> ai{transport, test::recording_budget{log}};

    asio::cancellation_signal signal;
    std::optional<result<response>> got;
    ai.complete(question(),
                asio::bind_cancellation_slot(signal.slot(), [&](result<response> r) { got.emplace(std::move(r)); }));
    io.run_for(20ms);
    signal.emit(asio::cancellation_type::terminal);
    io.restart();
    io.run_for(test::test_bound);
    REQUIRE(got);
    CHECK(got->error() == errc::cancelled);
    CHECK(log->entries() == std::vector<std::string>{"budget.reserve", "budget.release"});
}
