// FallbackPolicy: the ordered routes a call may take, and their health. The client tries
// each available route in order (with retries on each) until one answers; a route whose
// circuit breaker is open is skipped for the duration of the outage.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/error.hpp>
#include <llm/core/request.hpp>

#include <concepts>    // convertible_to
#include <cstddef>     // std::size_t
#include <string_view> // name
#include <type_traits> // is_empty_v

namespace llm {

// Routes are numbered 0..size()-1 in order of preference.
//   available(i, now)   false while route i must not be tried (breaker open)
//   prepare(i, request) adapts the request to route i (e.g. its model name)
//   succeeded / failed  report each route's outcome, so breakers can open and close
//   name(i)             shown in response::route and to observers
// Called concurrently by concurrent calls: a policy with state must protect it.
template <class F>
concept fallback_policy = requires(F& f, std::size_t i, request& r, const error& e, time_point now)
{
    {
        f.size()
        } -> std::convertible_to<std::size_t>;
    {
        f.available(i, now)
        } -> std::convertible_to<bool>;
    f.prepare(i, r);
    f.succeeded(i, now);
    f.failed(i, e, now);
    {
        f.name(i)
        } -> std::convertible_to<std::string_view>;
};

} // namespace llm

namespace llm::fallback {

// One route, the client's own; always available.
struct none {
    static constexpr std::size_t size() noexcept { return 1; }
    static constexpr bool available(std::size_t, time_point) noexcept { return true; }
    static constexpr void prepare(std::size_t, request&) noexcept {}
    static constexpr void succeeded(std::size_t, time_point) noexcept {}
    static constexpr void failed(std::size_t, const error&, time_point) noexcept {}
    static constexpr std::string_view name(std::size_t) noexcept { return {}; }
};
static_assert(fallback_policy<none> && std::is_empty_v<none>);

} // namespace llm::fallback
