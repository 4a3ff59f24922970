// The parts of an absolute http:// or https:// URL that a connection needs.
#pragma once

#include <llm/http/error.hpp>
#include <llm/http/syntax.hpp>

#include <charconv>     // the port
#include <cstdint>      // std::uint16_t
#include <optional>     // parse
#include <string>       // parts
#include <string_view>  // parse
#include <system_error> // error_code

namespace llm::http {

struct url {
    std::string scheme; // "http" or "https", lower case
    std::string host;   // a name, an IPv4 address, or an IPv6 address without its brackets
    std::uint16_t port = 0;
    std::string target; // path and query, "/" at least; never the fragment

    bool tls() const noexcept { return scheme == "https"; }

    // Host header value: the host, bracketed if IPv6, with the port unless it is the default.
    std::string authority() const
    {
        std::string out;
        append_authority(out);
        return out;
    }

    // host:port, always with the port (a CONNECT request's target).
    std::string host_and_port() const
    {
        std::string out;
        append_host(out);
        append_port(out);
        return out;
    }

    // The same, appended to `out` (a std::string or any text with append(string_view)): a
    // request is written, and a pool key made, without making them apart first.
    template <class Text>
    void append_authority(Text& out) const
    {
        append_host(out);
        if (port != (tls() ? 443 : 80))
            append_port(out);
    }

    template <class Text>
    void append_host(Text& out) const
    {
        const bool v6 = host.find(':') != std::string::npos;
        if (v6)
            out.append(std::string_view("["));
        out.append(std::string_view(host));
        if (v6)
            out.append(std::string_view("]"));
    }

    template <class Text>
    void append_port(Text& out) const
    {
        char digits[8] = {':'};
        const auto end = std::to_chars(digits + 1, digits + sizeof digits, port).ptr;
        out.append(std::string_view(digits, static_cast<std::size_t>(end - digits)));
    }

    friend bool operator==(const url&, const url&) = default;
};

// Refuses user:password@ in URLs: credentials belong in headers, where they are kept out of
// logs and errors.
inline std::optional<url> parse_url(std::string_view text, std::error_code& ec)
{
    ec = make_error_code(errc::bad_url);
    const auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos)
        return std::nullopt;
    url out;
    const auto scheme = text.substr(0, scheme_end);
    if (syntax::equal_ignoring_case(scheme, "http"))
        out.scheme = "http";
    else if (syntax::equal_ignoring_case(scheme, "https"))
        out.scheme = "https";
    else
        return std::nullopt;
    text.remove_prefix(scheme_end + 3);
    if (auto hash = text.find('#'); hash != std::string_view::npos)
        text = text.substr(0, hash);
    // Where the authority ends; a loop, as find_first_of("/?") calls memchr once per character.
    auto path_start = std::string_view::npos;
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '/' || text[i] == '?') {
            path_start = i;
            break;
        }
    std::string_view authority = text.substr(0, path_start);
    out.target = path_start == std::string_view::npos ? "/" : std::string(text.substr(path_start));
    if (out.target.front() == '?')
        out.target.insert(0, "/");
    if (authority.find('@') != std::string_view::npos)
        return std::nullopt;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') { // IPv6 literal
        const auto close = authority.find(']');
        if (close == std::string_view::npos)
            return std::nullopt;
        out.host = std::string(authority.substr(1, close - 1));
        authority.remove_prefix(close + 1);
        if (!authority.empty()) {
            if (authority.front() != ':')
                return std::nullopt;
            port = authority.substr(1);
        }
    } else {
        const auto colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos)
            port = authority.substr(colon + 1);
        if (out.host.find(':') != std::string::npos)
            return std::nullopt; // an IPv6 address must be bracketed
    }
    if (out.host.empty())
        return std::nullopt;
    for (char ch : out.host)
        if (const auto c = static_cast<unsigned char>(ch); c <= 0x20 || c == 0x7F || c == '/' || c == '\\')
            return std::nullopt;
    for (char ch : out.target)
        if (const auto c = static_cast<unsigned char>(ch); c <= 0x20 || c == 0x7F)
            return std::nullopt; // spaces and controls must be percent-encoded
    if (port.empty()) {
        out.port = out.tls() ? 443 : 80;
    } else {
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9' || port.size() > 5)
                return std::nullopt;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value == 0 || value > 65535)
            return std::nullopt;
        out.port = static_cast<std::uint16_t>(value);
    }
    ec = {};
    return out;
}

} // namespace llm::http
