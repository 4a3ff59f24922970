// Which proxy, if any, carries a request: HTTPS_PROXY for https:// URLs (through a CONNECT
// tunnel), HTTP_PROXY for http:// URLs (absolute-form requests), NO_PROXY to go direct, as
// curl and most HTTP clients read them from the environment.
#pragma once

#include <llm/http/syntax.hpp>
#include <llm/http/url.hpp>

#include <cstdint>     // base64
#include <cstdlib>     // std::getenv
#include <optional>    // for_target
#include <string>      // settings
#include <string_view> // matching

namespace llm::transport {

struct proxy_endpoint {
    http::url address;         // the proxy itself (http:// only)
    std::string authorization; // "Basic ..." from user:password in the proxy URL, or empty
};

struct proxy_settings {
    std::string https_proxy; // e.g. "http://proxy.corp:3128"; empty: https:// goes direct
    std::string http_proxy;  // empty: http:// goes direct
    std::string no_proxy;    // comma-separated hosts, domains (".corp" or "corp") or "*"

    // HTTPS_PROXY, HTTP_PROXY and NO_PROXY, upper or lower case (lower case wins, as in curl).
    static proxy_settings from_environment()
    {
        auto env = [](const char* lower, const char* upper) {
            const char* v = std::getenv(lower);
            if (!v || !*v)
                v = std::getenv(upper);
            return std::string(v ? v : "");
        };
        return {env("https_proxy", "HTTPS_PROXY"), env("http_proxy", "HTTP_PROXY"), env("no_proxy", "NO_PROXY")};
    }

    // The proxy for this target; nullopt to connect directly. A proxy URL that cannot be parsed
    // is reported through `ec` (errc::bad_url), never silently bypassed.
    std::optional<proxy_endpoint> for_target(const http::url& target, std::error_code& ec) const
    {
        ec = {};
        const std::string& configured = target.tls() ? https_proxy : http_proxy;
        if (configured.empty() || bypassed(target.host))
            return std::nullopt;
        return parse_proxy(configured, ec);
    }

    bool bypassed(std::string_view host) const
    {
        std::string_view list = no_proxy;
        while (!list.empty()) {
            const auto comma = list.find(',');
            auto entry = http::syntax::trim(list.substr(0, comma));
            list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
            if (entry == "*")
                return true;
            if (!entry.empty() && entry.front() == '.')
                entry.remove_prefix(1);
            if (entry.empty())
                continue;
            if (http::syntax::equal_ignoring_case(host, entry))
                return true;
            if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
                http::syntax::equal_ignoring_case(host.substr(host.size() - entry.size()), entry))
                return true;
        }
        return false;
    }

private:
    static std::optional<proxy_endpoint> parse_proxy(std::string_view text, std::error_code& ec)
    {
        if (text.find("://") == std::string_view::npos) // "proxy:3128" means http://proxy:3128
            return parse_proxy("http://" + std::string(text), ec);
        proxy_endpoint out;
        std::string without_credentials(text);
        const auto authority_start = text.find("://") + 3;
        const auto authority_end = text.find_first_of("/?#", authority_start);
        const auto authority = text.substr(authority_start, authority_end - authority_start);
        if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
            out.authorization = "Basic " + base64(percent_decode(authority.substr(0, at)));
            without_credentials.erase(authority_start, at + 1);
        }
        auto address = http::parse_url(without_credentials, ec);
        if (!address)
            return std::nullopt;
        if (address->tls()) { // TLS to the proxy itself is not supported
            ec = make_error_code(http::errc::bad_url);
            return std::nullopt;
        }
        out.address = std::move(*address);
        return out;
    }

    static std::string percent_decode(std::string_view s)
    {
        auto hex = http::syntax::hex_digit;
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
                out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
                i += 2;
            } else {
                out.push_back(s[i]);
            }
        }
        return out;
    }

    static std::string base64(std::string_view in)
    {
        static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        auto byte = [&](std::size_t i) -> std::uint32_t {
            return i < in.size() ? static_cast<unsigned char>(in[i]) : 0u;
        };
        std::string out;
        for (std::size_t i = 0; i < in.size(); i += 3) {
            const std::uint32_t n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
            out.push_back(alphabet[(n >> 18) & 63]);
            out.push_back(alphabet[(n >> 12) & 63]);
            out.push_back(i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=');
            out.push_back(i + 2 < in.size() ? alphabet[n & 63] : '=');
        }
        return out;
    }
};

} // namespace llm::transport
