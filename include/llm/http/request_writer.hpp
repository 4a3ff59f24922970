// Writes an http::request as HTTP/1.1 bytes, straight into the caller's buffer.
// Refuses, before writing anything, a method, target, header name or value that could forge
// other headers or requests (CR, LF, NUL, controls): header injection is an error, not a risk.
#pragma once

#include <llm/http/error.hpp>
#include <llm/http/message.hpp>
#include <llm/http/syntax.hpp>
#include <llm/http/url.hpp>

#include <charconv>     // Content-Length
#include <string>       // out
#include <string_view>  // literals
#include <system_error> // error_code

namespace llm::http {

// Appends the request to `out`: request line, Host (unless given), the headers in order,
// Content-Length (unless given, and for any body or a method that carries one), a blank line,
// the body. On error `out` is left as it was.
// `request_target` replaces the URL's path and query on the request line: a forward proxy
// takes the absolute URL there.
inline std::error_code write_request(const request& r, const url& target, std::string& out,
                                     std::string_view request_target = {})
{
    if (request_target.empty())
        request_target = target.target;
    const auto invalid = make_error_code(errc::invalid_request);
    if (!syntax::is_token(r.method))
        return invalid;
    bool has_host = false, has_length = false;
    for (const auto& [name, value] : r.headers.fields) {
        if (!syntax::is_token(name) || !syntax::is_field_value(value))
            return invalid;
        has_host = has_host || syntax::equal_ignoring_case(name, "host");
        has_length = has_length || syntax::equal_ignoring_case(name, "content-length") ||
                     syntax::equal_ignoring_case(name, "transfer-encoding");
    }
    for (char ch : request_target)
        if (const auto c = static_cast<unsigned char>(ch); c <= 0x20 || c == 0x7F)
            return invalid;

    using namespace std::string_view_literals; // appended without measuring them first
    out.reserve(out.size() + r.body.size() + 256);
    out.append(r.method).append(" "sv).append(request_target).append(" HTTP/1.1\r\n"sv);
    if (!has_host) {
        out.append("Host: "sv);
        target.append_authority(out);
        out.append("\r\n"sv);
    }
    for (const auto& [name, value] : r.headers.fields)
        out.append(name).append(": "sv).append(value).append("\r\n"sv);
    const std::string_view method = r.method;
    const bool sends_body = !r.body.empty() || method == "POST"sv || method == "PUT"sv || method == "PATCH"sv;
    if (!has_length && sends_body) {
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, r.body.size()).ptr;
        out.append("Content-Length: "sv).append(digits, static_cast<std::size_t>(end - digits)).append("\r\n"sv);
    }
    out.append("\r\n"sv).append(r.body);
    return {};
}

// The same, taking the target from r.url.
inline std::error_code write_request(const request& r, std::string& out)
{
    std::error_code ec;
    auto target = parse_url(r.url, ec);
    if (!target)
        return ec;
    return write_request(r, *target, out);
}

} // namespace llm::http
