// The library's error vocabulary: one std::error_category ("llm"), the documented
// llm::errc enum, and llm::error, which carries the code together with the details a
// caller needs to act (HTTP status, provider message, when to retry).
#pragma once

#include <llm/core/rate_limits.hpp>

#include <chrono>       // retry_after
#include <optional>     // retry_after
#include <string>       // message
#include <system_error> // error_category, error_code

namespace llm {

// Every failure the library reports. 0 is reserved for success, as std::error_code expects.
enum class errc {
    // A rate limit refused the call, ours or the provider's (HTTP 429).
    // Wait error::retry_after, then send again; tell your own client with Retry-After.
    rate_limited = 1,
    // The token or money budget of the identity, tenant or the global ceiling is spent.
    // Wait for the window to reset, raise the budget, or lower max_tokens.
    budget_exceeded,
    // A deadline passed (connect, first byte, idle stream or total). Retry, or raise the timeout.
    timeout,
    // The caller cancelled the operation. Nothing to do; no usage beyond what streamed is charged.
    cancelled,
    // The provider could not answer (5xx, overloaded, connection refused or reset) and no
    // fallback route was left. Retry later or add a fallback route.
    provider_unavailable,
    // The request is invalid (ours or the provider's HTTP 400/404/413/422). Fix the request;
    // sending it again will fail the same way.
    bad_request,
    // The provider rejected the credentials (HTTP 401/403). Check the API key and its permissions.
    unauthorized,
    // The provider's answer could not be understood (bad JSON, missing fields, truncated stream).
    // Retrying may help; if it persists, report it with the provider's raw answer.
    malformed_response,
    // The client or a policy was configured with impossible settings. Fix the configuration.
    invalid_configuration,
    // A policy or the library itself failed unexpectedly (an exception escaped a policy).
    // This is a bug: report it with the message.
    internal_error,
    // The server's TLS certificate could not be verified (wrong host name, unknown authority,
    // expired). Retrying will not help: check the URL and the CA configuration.
    tls_verification_failed,
    // The store that keeps rate limits and budgets could not be reached or written (Redis down,
    // SQLite file locked or unwritable), and the policy fails closed: the call was refused.
    // Check the store; a policy may be configured to fail open instead.
    store_unavailable,
};

namespace detail {
class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "llm"; }

    std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::rate_limited:
            return "rate limited: wait for retry_after, then send again";
        case errc::budget_exceeded:
            return "token budget exceeded: wait for the budget window to reset, raise the budget or lower max_tokens";
        case errc::timeout:
            return "timed out: retry, or raise the timeout";
        case errc::cancelled:
            return "cancelled by the caller";
        case errc::provider_unavailable:
            return "provider unavailable: retry later or add a fallback route";
        case errc::bad_request:
            return "bad request: fix the request, sending it again will fail the same way";
        case errc::unauthorized:
            return "unauthorized: check the API key and its permissions";
        case errc::malformed_response:
            return "malformed response from the provider: retry; report it if it persists";
        case errc::invalid_configuration:
            return "invalid configuration: fix the client or policy settings";
        case errc::internal_error:
            return "internal error in llm or one of its policies: please report it";
        case errc::tls_verification_failed:
            return "the server's TLS certificate could not be verified: check the URL's host name and the CA "
                   "configuration";
        case errc::store_unavailable:
            return "the rate-limit and budget store is unavailable, so the call was refused: check the store "
                   "(Redis, SQLite file), or configure the store to fail open";
        }
        return "unknown llm error";
    }

    std::error_condition default_error_condition(int value) const noexcept override
    {
        switch (static_cast<errc>(value)) {
        case errc::rate_limited:
            return std::errc::resource_unavailable_try_again;
        case errc::timeout:
            return std::errc::timed_out;
        case errc::cancelled:
            return std::errc::operation_canceled;
        case errc::bad_request:
        case errc::invalid_configuration:
            return std::errc::invalid_argument;
        case errc::unauthorized:
            return std::errc::permission_denied;
        case errc::malformed_response:
            return std::errc::bad_message;
        default:
            return {value, *this};
        }
    }
};
} // namespace detail

// std::error_category compares by address, so a header-only library needs exactly one
// instance: an inline function's static is one object across all translation units.
inline const std::error_category& error_category() noexcept
{
    static const detail::error_category instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

// A failure with everything a caller needs to decide what to do next.
// Never holds secrets: API keys and authorization headers stay out of messages.
struct error {
    std::error_code code;                                 // llm::errc, or a transport's own code
    std::string message;                                  // provider's or library's explanation
    int http_status = 0;                                  // 0 when no HTTP answer was received
    std::string provider_type;                            // e.g. "overloaded_error", "rate_limit_error"
    std::optional<std::chrono::milliseconds> retry_after; // when the provider or a policy says to retry
    llm::rate_limits rate_limits;                         // the provider's rate-limit headers, if it sent any
    std::optional<llm::quota> quota;                      // the llm rate limit that refused the call

    error() = default;
    error(errc e) : code(make_error_code(e)) {} // NOLINT(google-explicit-constructor): `return errc::x;` reads best
    error(errc e, std::string msg) : code(make_error_code(e)), message(std::move(msg)) {}
    error(std::error_code ec, std::string msg = {})
        : code(ec), message(std::move(msg)) {} // NOLINT(google-explicit-constructor)

    // The code's own advice, followed by the details, e.g.
    // "rate limited: wait for retry_after, then send again (HTTP 429: Too many requests)".
    std::string describe() const
    {
        std::string out = code.message();
        if (http_status != 0 || !message.empty()) {
            out += " (";
            if (http_status != 0) {
                out += "HTTP " + std::to_string(http_status);
                if (!message.empty())
                    out += ": ";
            }
            out += message;
            out += ')';
        }
        return out;
    }

    friend bool operator==(const error& e, errc c) noexcept { return e.code == make_error_code(c); }
};

// Outcome's hooks, found by ADL: they let llm::result<T> treat llm::error as an error code,
// and throw std::system_error from .value() on a failed result.
inline std::error_code make_error_code(const error& e) noexcept
{
    return e.code;
}

[[noreturn]] inline void outcome_throw_as_system_error_with_payload(const error& e)
{
    throw std::system_error(e.code, e.message);
}

} // namespace llm

template <>
struct std::is_error_code_enum<llm::errc> : std::true_type {
};
