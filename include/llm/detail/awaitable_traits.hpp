// What a hook's result is, without Asio: seams that only need to know whether a hook answers
// now or through an asio::awaitable (the token counter) include this, not hook.hpp, and so do
// not compile Asio's coroutine machinery.
#pragma once

#include <concepts>    // convertible_to, same_as
#include <type_traits> // false_type, true_type

namespace asio {
// Declared only: naming the template needs none of Asio, and its definition (with its default
// executor) comes with whatever actually makes awaitables.
template <typename T, typename Executor>
class awaitable;
} // namespace asio

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
concept hook_returning = std::convertible_to<E, T> ||
    (is_awaitable<E>::value&& std::same_as<typename awaited<E>::type, T>);

} // namespace llm::detail
