// Errors of the HTTP/1.1 codec, in their own category ("llm.http"). Each one is final: the
// message cannot be read further, and its connection must not be reused.
#pragma once

#include <string>       // message
#include <system_error> // error_category

namespace llm::http {

enum class errc {
    // The response does not start with "HTTP/1.0 NNN" or "HTTP/1.1 NNN".
    bad_status_line = 1,
    // A header line is malformed: no colon, a name that is not a token (or followed by space
    // before its colon), a control character in the value, or a continuation line with nothing
    // to continue.
    bad_header,
    // Content-Length is not a number, or several disagree.
    bad_content_length,
    // The chunked body's framing is malformed.
    bad_chunk,
    // A chunk size does not fit in 64 bits.
    chunk_size_overflow,
    // The status line and headers exceed the parser's header_bytes limit (default 64 KiB).
    header_limit,
    // More header fields than the parser's header_count limit (default 256).
    header_count_limit,
    // The body exceeds the parser's body_bytes limit (default 64 MiB).
    body_limit,
    // The connection ended before the response did.
    truncated,
    // A request header name, value, method or target holds CR, LF, NUL or another character
    // that would let it forge other headers: refused before anything is sent.
    invalid_request,
    // The URL is not an absolute http:// or https:// URL with a host.
    bad_url,
};

namespace detail {
class error_category final : public std::error_category {
public:
    const char* name() const noexcept override { return "llm.http"; }
    std::string message(int value) const override
    {
        switch (static_cast<errc>(value)) {
        case errc::bad_status_line:
            return "malformed HTTP status line: the peer does not speak HTTP/1.x";
        case errc::bad_header:
            return "malformed HTTP header line";
        case errc::bad_content_length:
            return "invalid or conflicting Content-Length";
        case errc::bad_chunk:
            return "malformed chunked transfer encoding";
        case errc::chunk_size_overflow:
            return "chunk size too large";
        case errc::header_limit:
            return "HTTP headers larger than the parser's header_bytes limit";
        case errc::header_count_limit:
            return "more HTTP header fields than the parser's header_count limit";
        case errc::body_limit:
            return "HTTP body larger than the parser's body_bytes limit: raise it if the answer is legitimate";
        case errc::truncated:
            return "the connection closed before the HTTP response was complete";
        case errc::invalid_request:
            return "refused to send a request whose method, target or headers contain CR, LF, NUL or other "
                   "forbidden characters (header injection)";
        case errc::bad_url:
            return "not an absolute http:// or https:// URL with a host";
        }
        return "unknown llm.http error";
    }
    std::error_condition default_error_condition(int value) const noexcept override
    {
        switch (static_cast<errc>(value)) {
        case errc::header_limit:
        case errc::header_count_limit:
        case errc::body_limit:
        case errc::chunk_size_overflow:
            return std::errc::message_size;
        case errc::invalid_request:
        case errc::bad_url:
            return std::errc::invalid_argument;
        case errc::truncated:
            return std::errc::connection_aborted;
        default:
            return std::errc::bad_message;
        }
    }
};
} // namespace detail

inline const std::error_category& error_category() noexcept
{
    static const detail::error_category instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

} // namespace llm::http

template <>
struct std::is_error_code_enum<llm::http::errc> : std::true_type {
};
