// A plain HTTP request and response, the currency between providers and wire transports.
// The codec that writes and parses them on a socket lives beside this header.
#pragma once

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
            if (equal_ignoring_case(n, name))
                return &v;
        return nullptr;
    }

    static bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept
    {
        if (a.size() != b.size())
            return false;
        for (std::size_t i = 0; i < a.size(); ++i) {
            auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
            if (lower(a[i]) != lower(b[i]))
                return false;
        }
        return true;
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
