// A plain HTTP request and response, the currency between providers and wire transports.
// The codec that writes and parses them on a socket lives beside this header.
#pragma once

#include <llm/http/syntax.hpp>

#include <string>      // values
#include <string_view> // find
#include <utility>     // std::pair
#include <vector>      // headers

namespace llm::http {

// In order, duplicates kept (Set-Cookie, Link); names compare case-insensitively.
struct headers {
    std::vector<std::pair<std::string, std::string>> fields;

    void add(std::string name, std::string value) { fields.emplace_back(std::move(name), std::move(value)); }

    // The first value under name, or nullptr.
    const std::string* find(std::string_view name) const noexcept
    {
        for (const auto& [n, v] : fields)
            if (syntax::equal_ignoring_case(n, name))
                return &v;
        return nullptr;
    }
};

struct request {
    std::string method = "POST";
    std::string url; // absolute: scheme, host, optional port, target
    http::headers headers;
    std::string body;
};

struct response {
    int status = 0;
    http::headers headers;
    std::string body;
};

} // namespace llm::http
