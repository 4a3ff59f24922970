// What a rate limit counts and for whom: rules of "N requests and M tokens per window", each
// kept per user, tenant, feature, globally, or per key of the application's choosing.
#pragma once

#include <llm/core/request.hpp>
#include <llm/core/result.hpp>

#include <chrono>     // windows
#include <cstdint>    // std::int64_t
#include <functional> // custom keys
#include <optional>   // requests, tokens
#include <string>     // keys, messages
#include <vector>     // rules

namespace llm::rate_limit {

// Whose calls one rule counts together.
enum class scope {
    user,    // request::identity.user; calls without a user share one count
    tenant,  // request::identity.tenant
    feature, // request::identity.feature
    global,  // every call of every identity
    custom,  // rule::key(request)
};

// `count` per `per`, e.g. {60, 1min}.
struct limit {
    std::int64_t count = 0;
    std::chrono::milliseconds per{};
};

struct rule {
    rate_limit::scope scope = scope::user;
    std::optional<limit> requests; // calls admitted per window
    // Tokens per window: the request's input (from the token counter) plus its max_tokens, as
    // providers count them against their own limits.
    std::optional<limit> tokens;
    std::function<std::string(const request&)> key; // scope::custom: the key of a request
};

struct options {
    std::string prefix = "llm"; // the first part of every key: several applications may share a store
    // When the store cannot be reached: false refuses calls (errc::store_unavailable), true
    // admits them unchecked. Refusing is the safe default for money.
    bool fail_open = false;
    // Output tokens counted for a request without max_tokens.
    std::int64_t assumed_output_tokens = 1024;
};

namespace detail {

inline std::string describe(const limit& l, const char* unit)
{
    return std::to_string(l.count) + " " + unit + " per " + std::to_string(l.per.count()) + " ms";
}

// The reasons a set of rules cannot work, said at construction rather than on the first call.
inline result<void> check(const std::vector<rule>& rules, const options& o, std::size_t max_rules)
{
    if (rules.empty())
        return fail(errc::invalid_configuration, "rate_limit: no rules given; add at least one rule");
    if (rules.size() > max_rules)
        return fail(errc::invalid_configuration, "rate_limit: " + std::to_string(rules.size()) +
                                                     " rules given, at most " + std::to_string(max_rules) +
                                                     " are supported");
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& r = rules[i];
        const std::string which = "rate_limit: rule " + std::to_string(i + 1) + ": ";
        if (!r.requests && !r.tokens)
            return fail(errc::invalid_configuration, which + "limits neither requests nor tokens");
        for (const auto& [l, unit] : {std::pair{r.requests, "requests"}, std::pair{r.tokens, "tokens"}}) {
            if (!l)
                continue;
            if (l->count <= 0)
                return fail(errc::invalid_configuration,
                            which + "the limit of " + describe(*l, unit) + " must be positive");
            if (l->per <= std::chrono::milliseconds::zero())
                return fail(errc::invalid_configuration,
                            which + "the window of " + describe(*l, unit) + " must be at least 1 ms");
        }
        if (r.scope == scope::custom && !r.key)
            return fail(errc::invalid_configuration, which + "scope::custom needs a key function");
    }
    if (o.assumed_output_tokens < 0)
        return fail(errc::invalid_configuration, "rate_limit: assumed_output_tokens must not be negative");
    return success();
}

// How an error names a scope.
inline const char* name_of(scope s)
{
    switch (s) {
    case scope::user:
        return "user";
    case scope::tenant:
        return "tenant";
    case scope::feature:
        return "feature";
    case scope::global:
        return "all calls";
    case scope::custom:
        break;
    }
    return "key";
}

// How a key names a scope: its letter, in the enum's order.
inline const char* letter_of(scope s)
{
    constexpr const char* letters[] = {"u", "t", "f", "g", "k"};
    return letters[static_cast<std::size_t>(s)];
}

// Calls f with the id the call is counted under (a custom key's id lives only during the call,
// so nothing copies the others).
template <class F>
decltype(auto) with_id(const rule& r, const request& req, F&& f)
{
    switch (r.scope) {
    case scope::user:
        return f(std::string_view(req.identity.user));
    case scope::tenant:
        return f(std::string_view(req.identity.tenant));
    case scope::feature:
        return f(std::string_view(req.identity.feature));
    case scope::global:
        return f(std::string_view());
    case scope::custom:
        break;
    }
    const std::string id = r.key(req);
    return f(std::string_view(id));
}

} // namespace detail
} // namespace llm::rate_limit
