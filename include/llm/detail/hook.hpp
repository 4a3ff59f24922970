// Policy hooks may answer at once (a value, or nothing) or later (an asio::awaitable, for
// stores that talk to a server). The pipeline awaits both the same way through call_hook().
#pragma once

#include <asio/async_result.hpp>  // async_initiate
#include <asio/awaitable.hpp>     // awaitable
#include <asio/use_awaitable.hpp> // use_awaitable

#include <concepts>    // convertible_to, same_as
#include <functional>  // std::invoke_result_t
#include <type_traits> // false_type, true_type

namespace llm::detail {

template <class T>
struct is_awaitable : std::false_type {
};
template <class T, class Executor>
struct is_awaitable<asio::awaitable<T, Executor>> : std::true_type {
    using value_type = T;
};

template <class T>
struct awaited {
    using type = T;
};
template <class T, class Executor>
struct awaited<asio::awaitable<T, Executor>> {
    using type = T;
};

// The hook expression E yields a T: now, or through co_await.
template <class E, class T>
concept hook_returning = std::convertible_to<E, T> || std::same_as<E, asio::awaitable<T>>;

// One co_await for both kinds of hook. Only policies that are present pay for this frame
// (recycled by Asio's per-thread allocator); absent ones are skipped at compile time.
template <class F, class R = std::invoke_result_t<F&>>
asio::awaitable<typename awaited<R>::type> call_hook(F hook)
{
    if constexpr (is_awaitable<R>::value)
        co_return co_await hook();
    else if constexpr (std::is_void_v<R>)
        hook();
    else
        co_return hook();
}

// Transports and upstreams take plain completion handlers, the simplest thing to implement;
// this awaits such an operation: `start(handler)` starts it.
template <class Result, class Start>
auto await_operation(Start start)
{
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(Result)>(
        [](auto handler, Start s) { s(std::move(handler)); }, asio::use_awaitable, std::move(start));
}

} // namespace llm::detail
