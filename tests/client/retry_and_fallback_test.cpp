// Retries on a route, on the client's clock, and fallback across routes.
#include <llm/client.hpp>

#include <support/printers.hpp>
#include <support/recording_policies.hpp>
#include <support/run.hpp>
#include <support/scripted_transport.hpp>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <array>

using namespace llm;
using namespace std::chrono_literals;
using test::scripted;

namespace {

request question()
{
    return request{.model = "primary-model", .messages = {user("hi")}};
}

// Runs io in small real-time steps until `done()`; false if the bound passes first.
template <class Done>
bool run_until(asio::io_context& io, Done done)
{
    const auto deadline = std::chrono::steady_clock::now() + test::test_bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(2ms);
    }
    return done();
}

// A user-written fallback policy: a list of models on the same transport, with a switch
// that takes a route out of service.
struct model_routes {
    std::array<std::string, 2> models{"primary-model", "backup-model"};
    std::array<bool, 2> up{true, true};
    std::shared_ptr<test::journal> log = std::make_shared<test::journal>();

    std::size_t size() const { return models.size(); }
    bool available(std::size_t i, time_point) const { return up[i]; }
    void prepare(std::size_t i, request& r) const { r.model = models[i]; }
    void succeeded(std::size_t i, time_point) { log->write("succeeded " + models[i]); }
    void failed(std::size_t i, const error& e, time_point)
    {
        log->write("failed " + models[i] + ": " + e.code.message());
    }
    std::string_view name(std::size_t i) const { return models[i]; }
};
static_assert(fallback_policy<model_routes>);

} // namespace

TEST_CASE("a failed attempt is retried after the delay the retry policy asks for, on the client's clock",
          "[client][retry]")
{
    asio::io_context io;
    auto log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    transport.then_fail(errc::rate_limited, 429).then_answer("second time lucky");
    client<scripted, test::recording_retry, manual_clock> ai{transport, test::recording_retry{log, 3, 30s}};

    std::optional<result<response>> got;
    ai.complete(question(), [&](result<response> r) { got.emplace(std::move(r)); });
    REQUIRE(run_until(io, [&] { return transport.calls() == 1 && log->entries().size() == 1; }));

    // The retry waits 30 s of manual time: real time passing changes nothing.
    io.restart();
    io.run_for(30ms);
    CHECK_FALSE(got);
    CHECK(transport.calls() == 1);

    manual_clock::advance(29s);
    io.restart();
    io.run_for(10ms);
    CHECK_FALSE(got);

    manual_clock::advance(1s);
    REQUIRE(run_until(io, [&] { return got.has_value(); }));
    REQUIRE(*got);
    CHECK(got->value().text == "second time lucky");
    CHECK(transport.calls() == 2);
}

TEST_CASE("retries stop when the retry policy gives up, with the last error", "[client][retry]")
{
    asio::io_context io;
    auto log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    transport.then_fail(errc::provider_unavailable, 500)
        .then_fail(errc::provider_unavailable, 502)
        .then_fail(errc::provider_unavailable, 503)
        .then_answer("never reached");
    client<scripted, test::recording_retry, manual_clock> ai{transport, test::recording_retry{log, 3, 0ms}};

    auto r = test::run(io, ai.complete(question()));
    REQUIRE(r);
    REQUIRE_FALSE(*r);
    CHECK(r->error() == errc::provider_unavailable);
    CHECK(r->error().http_status == 503);
    CHECK(transport.calls() == 3);
    CHECK(log->entries().size() == 3);
}

TEST_CASE("cancelling during a retry wait ends the call at once with errc::cancelled", "[client][retry][cancel]")
{
    asio::io_context io;
    auto log = std::make_shared<test::journal>();
    scripted transport{io.get_executor()};
    transport.then_fail(errc::rate_limited, 429).then_answer("never reached");
    client<scripted, test::recording_retry, manual_clock> ai{transport, test::recording_retry{log, 3, 1h}};

    asio::cancellation_signal signal;
    std::optional<result<response>> got;
    ai.complete(question(),
                asio::bind_cancellation_slot(signal.slot(), [&](result<response> r) { got.emplace(std::move(r)); }));
    REQUIRE(run_until(io, [&] { return log->entries().size() == 1; }));
    signal.emit(asio::cancellation_type::terminal);
    REQUIRE(run_until(io, [&] { return got.has_value(); }));
    CHECK(got->error() == errc::cancelled);
    CHECK(transport.calls() == 1);
}

TEST_CASE("a user-written fallback policy moves a failed call to the next route", "[client][fallback]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_fail(errc::provider_unavailable, 529).then_answer("from the backup");
    model_routes routes;
    auto log = routes.log;
    client<scripted, model_routes> ai{routes, transport};

    auto r = test::run(io, ai.complete(question()));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().text == "from the backup");
    CHECK(r->value().route == "backup-model");
    auto seen = transport.received();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].model == "primary-model");
    CHECK(seen[1].model == "backup-model");
    CHECK(log->entries() ==
          std::vector<std::string>{"failed primary-model: " + std::error_code(errc::provider_unavailable).message(),
                                   "succeeded backup-model"});
}

TEST_CASE("an unavailable route is skipped without being tried", "[client][fallback]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    transport.then_answer("backup answers");
    model_routes routes;
    routes.up[0] = false;
    client<scripted, model_routes> ai{transport, routes};

    auto r = test::run(io, ai.complete(question()));
    REQUIRE(r);
    REQUIRE(*r);
    CHECK(r->value().route == "backup-model");
    CHECK(transport.received().at(0).model == "backup-model");
}

TEST_CASE("when every route is down the call fails with provider_unavailable and a reason", "[client][fallback]")
{
    asio::io_context io;
    scripted transport{io.get_executor()};
    model_routes routes;
    routes.up = {false, false};
    client<scripted, model_routes> ai{transport, routes};

    auto r = test::run(io, ai.complete(question()));
    REQUIRE(r);
    REQUIRE_FALSE(*r);
    CHECK(r->error() == errc::provider_unavailable);
    CHECK_THAT(r->error().message, Catch::Contains("circuit breakers open"));
    CHECK(transport.calls() == 0);
}

TEST_CASE("a policy that throws fails the call with internal_error instead of escaping", "[client][errors]")
{
    struct throwing_rate_limit {
        result<void> acquire(const request&, time_point) { throw std::runtime_error("store exploded"); }
    };
    asio::io_context io;
    scripted transport{io.get_executor()};
    client<scripted, throwing_rate_limit> ai{transport};

    std::optional<result<response>> got;
    ai.complete(question(), [&](result<response> r) { got.emplace(std::move(r)); });
    io.run_for(test::test_bound);
    REQUIRE(got);
    REQUIRE_FALSE(*got);
    CHECK(got->error() == errc::internal_error);
    CHECK(got->error().message == "store exploded");
    CHECK(transport.calls() == 0);
}
