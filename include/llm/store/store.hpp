// Store: where caches, budgets and rate limits keep their state, so that one process, a
// restart, or many replicas see the same counters. Two primitives are enough for all of them:
// an atomic counter that lives for a window, and a value that lives for a TTL.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/core/result.hpp>
#include <llm/detail/hook.hpp>

#include <chrono>      // duration
#include <cstdint>     // std::int64_t
#include <optional>    // get
#include <string>      // get
#include <string_view> // keys and values
#include <type_traits> // is_empty_v

namespace llm {

//   add(key, delta, ttl, now)    adds delta atomically and returns the new total; a key that
//                                did not exist starts at 0 and expires ttl after now
//   get(key, now)                the value stored under key, nullopt when absent or expired
//   put(key, value, ttl, now)    stores value for ttl
// Each may return its result directly or as asio::awaitable<...> (Redis).
template <class S>
concept store_backend = requires(S& s, std::string_view key, std::string_view value, std::int64_t delta,
                                 std::chrono::milliseconds ttl, time_point now)
{
    {
        s.add(key, delta, ttl, now)
        } -> detail::hook_returning<result<std::int64_t>>;
    {
        s.get(key, now)
        } -> detail::hook_returning<result<std::optional<std::string>>>;
    {
        s.put(key, value, ttl, now)
        } -> detail::hook_returning<result<void>>;
};

} // namespace llm

namespace llm::store {

// Keeps nothing: every counter reads as just the delta added, every key as absent.
struct none {
    static result<std::int64_t> add(std::string_view, std::int64_t delta, std::chrono::milliseconds,
                                    time_point) noexcept
    {
        return delta;
    }
    static result<std::optional<std::string>> get(std::string_view, time_point) noexcept { return std::nullopt; }
    static result<void> put(std::string_view, std::string_view, std::chrono::milliseconds, time_point) noexcept
    {
        return success();
    }
};
static_assert(llm::store_backend<none> && std::is_empty_v<none>);

} // namespace llm::store
