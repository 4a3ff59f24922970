// Where the pipeline's time comes from. A client names its clock among its policies;
// every policy is handed `now` from it, and the pipeline's timers (retry backoff) run on it.
// llm::manual_clock lets tests move time by hand, so backoff, windows and TTLs are tested
// without sleeping.
#pragma once

#include <atomic>   // manual_clock's time, shared by the test and the io threads
#include <chrono>   // system_clock
#include <concepts> // same_as

namespace llm {

// Wall-clock time: budgets reset on calendar days and stores keep TTLs that other
// processes must understand, so every clock speaks system_clock's time_point.
using time_point = std::chrono::system_clock::time_point;

// A clock type usable by llm::client: static now() in wall-clock time, like the std clocks,
// because Asio's basic_waitable_timer calls Clock::now() without an object.
template <class C>
concept clock = requires
{
    typename C::duration;
    {
        C::now()
        } -> std::same_as<time_point>;
};

// The default: real time.
using system_clock = std::chrono::system_clock;

// Time that moves only when told to. One process-wide timeline: a test sets it, advances it,
// and every timer on it (llm::timer<manual_clock>) sees the change within a millisecond.
struct manual_clock {
    using duration = std::chrono::system_clock::duration;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = llm::time_point;
    static constexpr bool is_steady = false;

    static time_point now() noexcept { return time_point{duration{ticks().load(std::memory_order_acquire)}}; }

    static void set(time_point t) noexcept { ticks().store(t.time_since_epoch().count(), std::memory_order_release); }

    static void advance(duration d) noexcept { ticks().fetch_add(d.count(), std::memory_order_acq_rel); }

private:
    // Starts at a fixed, recognisable instant (2026-01-01T00:00:00Z) rather than the epoch,
    // so code that subtracts durations from now() never goes negative.
    static std::atomic<rep>& ticks() noexcept
    {
        static std::atomic<rep> value{std::chrono::duration_cast<duration>(std::chrono::seconds{1767225600}).count()};
        return value;
    }
};

static_assert(clock<system_clock> && clock<manual_clock>);

} // namespace llm
