// What every provider's error decoding shares: the llm::errc an HTTP status means, when to
// retry (Retry-After in seconds or as an HTTP date, retry-after-ms, or the provider's rate-limit
// reset headers), and the rate-limit headers to pass on.
#pragma once

#include <llm/core/error.hpp>
#include <llm/core/rate_limits.hpp>
#include <llm/detail/decimal.hpp>
#include <llm/http/message.hpp>

#include <algorithm>   // max
#include <array>       // month names
#include <chrono>      // system_clock, milliseconds
#include <cstdint>     // std::uint64_t
#include <optional>    // retry_after
#include <string>      // messages
#include <string_view> // header values

namespace llm::provider::detail {

using std::chrono::milliseconds;
using sys_time = std::chrono::system_clock::time_point;

// What a failed HTTP status means to a caller (and to the retry policy, which retries
// rate_limited, timeout and provider_unavailable, never bad_request or unauthorized).
constexpr errc errc_for_status(int status) noexcept
{
    if (status == 429)
        return errc::rate_limited;
    if (status == 408)
        return errc::timeout;
    if (status == 401 || status == 403)
        return errc::unauthorized;
    if (status >= 500)
        return errc::provider_unavailable; // 500, 502, 503, 504, Anthropic's 529
    return errc::bad_request;              // 400, 404, 409, 413, 422 and the rest of 4xx
}

// What an error type sent inside a stream (whose HTTP status was 200) means.
inline errc errc_for_type(std::string_view type) noexcept
{
    if (type == "rate_limit_error" || type == "rate_limit_exceeded" || type == "RESOURCE_EXHAUSTED")
        return errc::rate_limited;
    if (type == "invalid_request_error" || type == "not_found_error" || type == "request_too_large" ||
        type == "INVALID_ARGUMENT" || type == "NOT_FOUND")
        return errc::bad_request;
    if (type == "authentication_error" || type == "permission_error" || type == "PERMISSION_DENIED" ||
        type == "UNAUTHENTICATED")
        return errc::unauthorized;
    return errc::provider_unavailable; // overloaded_error, server_error, api_error, UNAVAILABLE, ...
}

// Parses a decimal number of seconds ("37", "34.4") into milliseconds.
inline std::optional<milliseconds> seconds_text(std::string_view s) noexcept
{
    std::uint64_t whole = 0, fraction = 0, scale = 1;
    bool point = false, digits = false;
    for (char c : s) {
        if (c == '.' && !point) {
            point = true;
        } else if (c >= '0' && c <= '9') {
            digits = true;
            if (!point) {
                if (whole > 100'000'000)
                    return std::nullopt; // over three years: not a delay anyone means
                whole = whole * 10 + static_cast<std::uint64_t>(c - '0');
            } else if (scale < 1000) {
                fraction = fraction * 10 + static_cast<std::uint64_t>(c - '0');
                scale *= 10;
            }
        } else {
            return std::nullopt;
        }
    }
    if (!digits)
        return std::nullopt;
    return milliseconds(static_cast<milliseconds::rep>(whole * 1000 + fraction * 1000 / scale));
}

// A Go-style duration as OpenAI's reset headers send it: "1s", "6m0s", "20ms", "1h2m3.5s".
inline std::optional<milliseconds> duration_text(std::string_view s) noexcept
{
    if (s.empty())
        return std::nullopt;
    milliseconds total{0};
    while (!s.empty()) {
        std::size_t n = 0;
        while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.'))
            ++n;
        const auto amount = seconds_text(s.substr(0, n)); // as if seconds; scaled below
        if (!amount)
            return std::nullopt;
        s.remove_prefix(n);
        const auto rep = amount->count(); // thousandths of the unit
        if (s.starts_with("ms")) {
            total += milliseconds(rep / 1000);
            s.remove_prefix(2);
        } else if (s.starts_with('s')) {
            total += milliseconds(rep);
            s.remove_prefix(1);
        } else if (s.starts_with('m')) {
            total += milliseconds(rep * 60);
            s.remove_prefix(1);
        } else if (s.starts_with('h')) {
            total += milliseconds(rep * 3600);
            s.remove_prefix(1);
        } else {
            return std::nullopt;
        }
    }
    return total;
}

namespace date_parts {
// A date's field: at most four digits.
inline std::optional<int> number(std::string_view s) noexcept
{
    const auto n = s.size() <= 4 ? llm::detail::decimal(s) : std::nullopt;
    return n ? std::optional<int>(static_cast<int>(*n)) : std::nullopt;
}

inline std::optional<sys_time> civil(int year, int month, int day, int hour, int minute, int second) noexcept
{
    const std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                           std::chrono::day(static_cast<unsigned>(day))};
    if (!date.ok() || hour > 23 || minute > 59 || second > 60)
        return std::nullopt;
    return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second);
}
} // namespace date_parts

// An HTTP date in its preferred form (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
inline std::optional<sys_time> http_date(std::string_view s) noexcept
{
    using date_parts::number;
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT" || s[19] != ':' || s[22] != ':')
        return std::nullopt;
    int month = 0;
    for (std::size_t i = 0; i < months.size(); ++i)
        if (s.substr(8, 3) == months[i])
            month = static_cast<int>(i) + 1;
    const auto day = number(s.substr(5, 2)), year = number(s.substr(12, 4)), hour = number(s.substr(17, 2)),
               minute = number(s.substr(20, 2)), second = number(s.substr(23, 2));
    if (!month || !day || !year || !hour || !minute || !second)
        return std::nullopt;
    return date_parts::civil(*year, month, *day, *hour, *minute, *second);
}

// An RFC 3339 time as Anthropic's reset headers send it: "2024-10-18T14:33:05Z" (fractions
// of a second and a numeric offset are accepted).
inline std::optional<sys_time> rfc3339_time(std::string_view s) noexcept
{
    using date_parts::number;
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    const auto year = number(s.substr(0, 4)), month = number(s.substr(5, 2)), day = number(s.substr(8, 2)),
               hour = number(s.substr(11, 2)), minute = number(s.substr(14, 2)), second = number(s.substr(17, 2));
    if (!year || !month || !day || !hour || !minute || !second)
        return std::nullopt;
    auto at = date_parts::civil(*year, *month, *day, *hour, *minute, *second);
    if (!at)
        return std::nullopt;
    auto rest = s.substr(19);
    if (rest.starts_with('.')) {
        std::size_t n = 1;
        while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')
            ++n;
        rest.remove_prefix(n);
    }
    if (rest == "Z" || rest == "z")
        return at;
    if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        const auto oh = number(rest.substr(1, 2)), om = number(rest.substr(4, 2));
        if (!oh || !om)
            return std::nullopt;
        const auto offset = std::chrono::hours(*oh) + std::chrono::minutes(*om);
        return rest[0] == '+' ? *at - offset : *at + offset;
    }
    return std::nullopt;
}

// The provider's rate-limit headers, names in lower case.
inline rate_limits rate_limits_of(const http::headers& headers)
{
    rate_limits out;
    for (const auto& [name, value] : headers.fields) {
        std::string lower(name);
        for (auto& c : lower)
            if (c >= 'A' && c <= 'Z')
                c = static_cast<char>(c - 'A' + 'a');
        if (lower.starts_with("x-ratelimit-") || lower.starts_with("anthropic-ratelimit-"))
            out.fields.emplace_back(std::move(lower), value);
    }
    return out;
}

// When the provider says to try again: retry-after-ms, then Retry-After (seconds or an HTTP
// date), then, for a 429 only, the reset time of the limit that ran out.
inline std::optional<milliseconds> retry_after_of(const http::response& answer, const rate_limits& limits, sys_time now)
{
    if (const auto* ms = answer.headers.find("retry-after-ms"))
        if (auto d = seconds_text(*ms))
            return milliseconds(d->count() / 1000);
    if (const auto* after = answer.headers.find("retry-after")) {
        if (auto d = seconds_text(*after))
            return d;
        if (auto at = http_date(*after))
            return std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*at - now));
    }
    if (answer.status != 429)
        return std::nullopt;
    // Reset headers: the latest reset among the limits with nothing remaining; if none says it
    // is spent, the latest of them all.
    std::optional<milliseconds> spent, any;
    auto consider = [&](std::string_view remaining, std::optional<milliseconds> reset) {
        if (!reset)
            return;
        any = std::max(any.value_or(milliseconds(0)), *reset);
        if (const auto* left = limits.find(remaining); left && *left == "0")
            spent = std::max(spent.value_or(milliseconds(0)), *reset);
    };
    for (std::string_view kind : {"requests", "tokens"}) {
        const std::string openai_reset = "x-ratelimit-reset-" + std::string(kind);
        if (const auto* v = limits.find(openai_reset))
            consider("x-ratelimit-remaining-" + std::string(kind), duration_text(*v));
    }
    for (std::string_view kind : {"requests", "tokens", "input-tokens", "output-tokens"}) {
        const std::string prefix = "anthropic-ratelimit-" + std::string(kind);
        if (const auto* v = limits.find(prefix + "-reset"))
            if (auto at = rfc3339_time(*v))
                consider(prefix + "-remaining",
                         std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(*at - now)));
    }
    return spent ? spent : any;
}

// An error for a failed HTTP answer: its status's errc, the provider's type and message, when
// to retry and the rate-limit headers. `message` is the provider's; never the request's.
inline error http_error(const http::response& answer, std::string_view provider, std::string_view type,
                        std::string_view message, sys_time now = std::chrono::system_clock::now())
{
    std::string text(provider);
    text += ": ";
    text += message.empty() ? std::string_view("the provider gave no message") : message;
    // An error body under a success status (some servers do that) is judged by its type.
    const bool success_status = answer.status >= 200 && answer.status <= 299;
    error e{success_status ? errc_for_type(type) : errc_for_status(answer.status), std::move(text)};
    e.http_status = answer.status;
    e.provider_type = std::string(type);
    e.rate_limits = rate_limits_of(answer.headers);
    e.retry_after = retry_after_of(answer, e.rate_limits, now);
    return e;
}

} // namespace llm::provider::detail
