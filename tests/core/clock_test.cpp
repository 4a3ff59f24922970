// The manual clock and the timers that run on it.
#include <llm/timer.hpp>

#include <asio/io_context.hpp>
#include <catch2/catch.hpp>

using namespace llm;
using namespace std::chrono_literals;

TEST_CASE("the manual clock moves only when told to", "[core][clock]")
{
    const auto start = time_point{std::chrono::sys_days{std::chrono::year{2026} / 11 / 23}};
    manual_clock::set(start);
    CHECK(manual_clock::now() == start);
    CHECK(manual_clock::now() == start);
    manual_clock::advance(90min);
    CHECK(manual_clock::now() == start + 90min);
}

TEST_CASE("a timer on the manual clock fires when the clock passes its expiry, not before", "[core][clock]")
{
    asio::io_context io;
    manual_clock::set(time_point{std::chrono::sys_days{std::chrono::year{2026} / 1 / 1}});
    timer<manual_clock> t(io, 1h);
    bool fired = false;
    t.async_wait([&](std::error_code ec) { fired = !ec; });

    io.run_for(20ms); // real time passes; manual time does not
    CHECK_FALSE(fired);

    manual_clock::advance(59min);
    io.run_for(20ms);
    CHECK_FALSE(fired);

    manual_clock::advance(1min);
    io.restart();
    io.run_for(1s); // returns as soon as the timer fired
    CHECK(fired);
}

TEST_CASE("a timer on the manual clock can be cancelled", "[core][clock]")
{
    asio::io_context io;
    timer<manual_clock> t(io, 24h);
    std::error_code result;
    t.async_wait([&](std::error_code ec) { result = ec; });
    t.cancel();
    io.run_for(1s);
    CHECK(result == asio::error::operation_aborted);
}
