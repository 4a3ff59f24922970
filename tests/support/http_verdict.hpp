// What a parser concluded about an HTTP response, reduced to what two parsers can compare.
#pragma once

#include <llm/http/response_parser.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llm::test {

struct http_verdict {
    bool accepted = false; // no error
    bool complete = false; // a final response was read to its end
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    friend bool operator==(const http_verdict&, const http_verdict&) = default;
};

// Our parser, fed the same pieces, then EOF if `eof`.
inline http_verdict our_verdict(const std::vector<std::string_view>& pieces, bool eof,
                                http::response_parser::limits limits = {})
{
    http::response_parser parser(limits);
    http::buffered_response sink;
    std::error_code ec;
    for (auto piece : pieces) {
        if (ec || parser.done())
            break;
        parser.put(piece, sink, ec);
    }
    if (!ec && !parser.done() && eof)
        parser.finish(sink, ec);
    http_verdict v;
    v.accepted = !ec;
    v.complete = !ec && parser.done();
    if (v.complete) {
        v.status = sink.response.status;
        v.headers = sink.response.headers.fields;
        // llhttp reports trailer fields as more headers; so does the verdict.
        v.headers.insert(v.headers.end(), parser.trailers().fields.begin(), parser.trailers().fields.end());
        v.body = sink.response.body;
    }
    return v;
}

// Cuts `bytes` into pieces whose sizes come from `seed` (1..max each).
inline std::vector<std::string_view> pieces_of(std::string_view bytes, unsigned seed, std::size_t max = 64)
{
    std::vector<std::string_view> out;
    unsigned state = seed * 2654435761u + 1;
    while (!bytes.empty()) {
        state = state * 1103515245u + 12345u;
        const std::size_t n = std::min<std::size_t>(bytes.size(), 1 + (state >> 8) % max);
        out.push_back(bytes.substr(0, n));
        bytes.remove_prefix(n);
    }
    return out;
}

} // namespace llm::test
