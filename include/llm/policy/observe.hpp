// Observer: sees every event of every call, in order: what ran, what it decided, how long
// it took. Logs, metrics and traces are observers; so is the demo's stage printer.
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/request.hpp>
#include <llm/core/usage.hpp>

#include <chrono>      // nanoseconds
#include <cstddef>     // std::size_t
#include <string_view> // route, to_string
#include <type_traits> // is_empty_v

namespace llm::observe {

enum class stage {
    started,        // the call entered the pipeline
    rate_limited,   // the rate limit refused it (error set)
    admitted,       // the rate limit let it through
    budget_refused, // the budget refused it (error set)
    reserved,       // the budget reserved tokens for it
    cache_hit,      // answered from the cache; no provider is called
    cache_miss,     // not in the cache
    route_skipped,  // a route was unavailable (breaker open)
    attempt,        // an attempt is sent on a route
    attempt_failed, // that attempt failed (error set)
    retry_wait,     // waiting `delay` before the next attempt
    route_failed,   // a route gave up; the next one is tried (error set)
    committed,      // the budget charged the used tokens (used set)
    released,       // the budget gave the reservation back
    cached,         // the answer was stored in the cache
    finished,       // the call ended: error set on failure, used on success
};

constexpr std::string_view to_string(stage s) noexcept
{
    switch (s) {
    case stage::started:
        return "started";
    case stage::rate_limited:
        return "rate_limited";
    case stage::admitted:
        return "admitted";
    case stage::budget_refused:
        return "budget_refused";
    case stage::reserved:
        return "reserved";
    case stage::cache_hit:
        return "cache_hit";
    case stage::cache_miss:
        return "cache_miss";
    case stage::route_skipped:
        return "route_skipped";
    case stage::attempt:
        return "attempt";
    case stage::attempt_failed:
        return "attempt_failed";
    case stage::retry_wait:
        return "retry_wait";
    case stage::route_failed:
        return "route_failed";
    case stage::committed:
        return "committed";
    case stage::released:
        return "released";
    case stage::cached:
        return "cached";
    case stage::finished:
        return "finished";
    }
    return "unknown";
}

// Only valid during the on_event call: copy what you keep.
struct event {
    observe::stage stage = stage::started;
    const llm::request* request = nullptr; // the call's request, as the pipeline holds it
    bool streaming = false;
    std::size_t route = 0; // route index, for route and attempt stages
    std::string_view route_name;
    unsigned attempt = 0;              // 1-based, for attempt stages
    const llm::error* error = nullptr; // for refusals and failures
    const llm::usage* used = nullptr;  // for committed and finished
    std::chrono::nanoseconds delay{};  // retry_wait: the wait; finished: the call's latency
};

} // namespace llm::observe

namespace llm {

// on_event is called on the call's executor, possibly from many threads at once.
template <class O>
concept observer = requires(O& o, const observe::event& e)
{
    o.on_event(e);
};

} // namespace llm

namespace llm::observe {

// Sees nothing; the pipeline does not even build the events.
struct none {
    static constexpr void on_event(const event&) noexcept {}
};
static_assert(observer<none> && std::is_empty_v<none>);

} // namespace llm::observe
