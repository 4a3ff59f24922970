// The HTTP headers a service sends its own clients about a rate limit: Retry-After on a 429,
// X-RateLimit-Limit, -Remaining and -Reset on every answer. Seconds are rounded up, so a client
// that waits as told is never early.
#pragma once

#include <llm/core/error.hpp>

#include <string>  // header values
#include <utility> // std::pair
#include <vector>  // headers

namespace llm::rate_limit {

using header_list = std::vector<std::pair<std::string, std::string>>;

namespace detail {
inline std::string seconds_rounded_up(std::chrono::milliseconds ms)
{
    const auto count = ms.count() <= 0 ? 0 : (ms.count() + 999) / 1000;
    return std::to_string(count);
}
} // namespace detail

inline header_list headers(const quota& q)
{
    return {{"X-RateLimit-Limit", std::to_string(q.limit)},
            {"X-RateLimit-Remaining", std::to_string(q.remaining)},
            {"X-RateLimit-Reset", detail::seconds_rounded_up(q.reset)}};
}

// For a refused call: Retry-After when the error says when, then the quota's headers.
inline header_list headers(const error& e)
{
    header_list out;
    if (e.retry_after)
        out.emplace_back("Retry-After", detail::seconds_rounded_up(*e.retry_after));
    if (e.quota)
        for (auto& h : headers(*e.quota))
            out.push_back(std::move(h));
    return out;
}

} // namespace llm::rate_limit
