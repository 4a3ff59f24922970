// Sorting llm::client's template arguments into slots: each argument is recognised by the one
// concept it satisfies; a slot nobody fills gets its null policy.
#pragma once

#include <llm/core/clock.hpp>
#include <llm/policy/budget.hpp>
#include <llm/policy/cache.hpp>
#include <llm/policy/fallback.hpp>
#include <llm/policy/observe.hpp>
#include <llm/policy/rate_limit.hpp>
#include <llm/policy/retry.hpp>
#include <llm/provider/provider.hpp>
#include <llm/transport/transport.hpp>

#include <type_traits> // conditional_t, bool_constant, remove_cvref_t

namespace llm::detail {

// Concepts cannot be template arguments; these traits stand in for them.
template <class T>
struct is_transport : std::bool_constant<transport_policy<T>> {
};
template <class T>
struct is_provider : std::bool_constant<provider_policy<T>> {
};
template <class T>
struct is_retry : std::bool_constant<retry_policy<T>> {
};
template <class T>
struct is_fallback : std::bool_constant<fallback_policy<T>> {
};
template <class T>
struct is_cache : std::bool_constant<cache_policy<T>> {
};
template <class T>
struct is_budget : std::bool_constant<budget_policy<T>> {
};
template <class T>
struct is_rate_limit : std::bool_constant<rate_limit_policy<T>> {
};
template <class T>
struct is_observer : std::bool_constant<observer<T>> {
};
template <class T>
struct is_clock : std::bool_constant<clock<T>> {
};

template <class T>
inline constexpr int roles =
    is_transport<T>::value + is_provider<T>::value + is_retry<T>::value + is_fallback<T>::value + is_cache<T>::value +
    is_budget<T>::value + is_rate_limit<T>::value + is_observer<T>::value + is_clock<T>::value;

// Instantiated once per argument, so the compiler names the offending type next to the message.
template <class T>
struct check_policy {
    static_assert(
        roles<T> >= 1,
        "llm::client: this type is not a policy: it satisfies none of llm::transport_policy, llm::provider_policy, "
        "llm::retry_policy, llm::fallback_policy, llm::cache_policy, llm::budget_policy, "
        "llm::rate_limit_policy, llm::observer or llm::clock (each concept's header lists what it needs)");
    static_assert(roles<T> <= 1,
                  "llm::client: this type satisfies more than one policy concept, so its role is ambiguous; "
                  "split it into one type per role");
    static constexpr bool value = true;
};

template <template <class> class Is, class... Ps>
inline constexpr int count = (0 + ... + int(Is<Ps>::value));

template <template <class> class Is, class Default, class... Ps>
struct select {
    using type = Default;
};
template <template <class> class Is, class Default, class P, class... Ps>
struct select<Is, Default, P, Ps...> {
    using type = std::conditional_t<Is<P>::value, P, typename select<Is, Default, Ps...>::type>;
};
template <template <class> class Is, class Default, class... Ps>
using select_t = typename select<Is, Default, Ps...>::type;

// A client's constructor takes policies, but must not hide its own copy and move constructors.
template <class Client, class... Args>
concept policy_arguments = sizeof...(Args) > 0 &&
                           !(sizeof...(Args) == 1 && (std::is_same_v<std::remove_cvref_t<Args>, Client> || ...));

// Constructor arguments: each goes to the slot of its own type; slots nobody fills are
// default-constructed.
template <class M, class A, class... As>
constexpr decltype(auto) first_of_type(A&& a, As&&... as)
{
    if constexpr (std::is_same_v<std::remove_cvref_t<A>, M>)
        return std::forward<A>(a);
    else
        return first_of_type<M>(std::forward<As>(as)...);
}

template <class M, class... Args>
constexpr M take(Args&&... args)
{
    if constexpr ((std::is_same_v<std::remove_cvref_t<Args>, M> || ...)) {
        return M(first_of_type<M>(std::forward<Args>(args)...));
    } else {
        static_assert(std::is_default_constructible_v<M>,
                      "llm::client: a policy that cannot be default-constructed (a transport needs its executor) "
                      "must be passed to the constructor");
        return M{};
    }
}

} // namespace llm::detail
