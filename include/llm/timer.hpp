// llm::timer<Clock>: an Asio timer on any llm::clock. Asio sleeps for the time its wait traits return; for a
// manual clock, whose time jumps when a test says so, it must wake up often to look again.
#pragma once

#include <llm/core/clock.hpp>

#include <asio/basic_waitable_timer.hpp> // basic_waitable_timer
#include <asio/wait_traits.hpp>          // wait_traits

#include <algorithm> // std::min
#include <chrono>    // milliseconds

namespace llm {

template <class Clock>
struct wait_traits : asio::wait_traits<Clock> {
};

template <>
struct wait_traits<manual_clock> {
    // Poll every millisecond: a manual timer fires at most 1 ms (real) after the test
    // advances the clock past its expiry, and costs nothing while nothing waits on it.
    static manual_clock::duration to_wait_duration(const manual_clock::duration& d)
    {
        return std::min<manual_clock::duration>(d, std::chrono::milliseconds{1});
    }
    static manual_clock::duration to_wait_duration(const manual_clock::time_point& t)
    {
        return to_wait_duration(t - manual_clock::now());
    }
};

template <clock Clock>
using timer = asio::basic_waitable_timer<Clock, wait_traits<Clock>>;

} // namespace llm
