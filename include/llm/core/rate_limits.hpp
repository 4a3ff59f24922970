// What a provider said about its own rate limits on an answer: the x-ratelimit-* (OpenAI and
// compatible servers) and anthropic-ratelimit-* headers, as sent, on responses and errors alike.
#pragma once

#include <llm/detail/decimal.hpp>

#include <chrono>      // quota
#include <cstdint>     // std::uint64_t
#include <optional>    // remaining
#include <string>      // names, values
#include <string_view> // find
#include <utility>     // std::pair
#include <vector>      // fields

namespace llm {

// What one of llm's own rate limits says about a caller: what a server needs to answer with
// Retry-After and X-RateLimit-* headers (rate_limit::headers()).
struct quota {
    std::int64_t limit = 0;             // requests or tokens the window allows
    std::int64_t remaining = 0;         // left now
    std::chrono::milliseconds reset{};  // until the whole limit is available again
    std::chrono::milliseconds window{}; // the limit's period
    bool tokens = false;                // counts tokens, not requests

    friend bool operator==(const quota&, const quota&) = default;
};

struct rate_limits {
    std::vector<std::pair<std::string, std::string>> fields; // header names in lower case

    bool empty() const noexcept { return fields.empty(); }

    // The value of one header (lower-case name), or nullptr.
    const std::string* find(std::string_view name) const noexcept
    {
        for (const auto& [n, v] : fields)
            if (n == name)
                return &v;
        return nullptr;
    }

    // Requests left in the provider's current window, whichever convention it uses.
    std::optional<std::uint64_t> remaining_requests() const noexcept
    {
        return number("x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining");
    }

    // Tokens left in the provider's current window, whichever convention it uses.
    std::optional<std::uint64_t> remaining_tokens() const noexcept
    {
        return number("x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining");
    }

    friend bool operator==(const rate_limits&, const rate_limits&) = default;

private:
    std::optional<std::uint64_t> number(std::string_view a, std::string_view b) const noexcept
    {
        const std::string* v = find(a);
        if (!v)
            v = find(b);
        return v ? detail::decimal(*v) : std::nullopt;
    }
};

} // namespace llm
