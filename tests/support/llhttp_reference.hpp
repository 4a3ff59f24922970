// A second opinion on HTTP responses: llhttp, the parser inside Node.js, driven the way our
// parser is (pieces, then EOF) and reduced to what both report. Test and fuzz builds only;
// llhttp is never part of the library.
#pragma once

#include <support/http_verdict.hpp>

extern "C" {
#include <llhttp.h>
}

namespace llm::test {

inline http_verdict llhttp_verdict(const std::vector<std::string_view>& pieces, bool eof)
{
    struct collector {
        http_verdict v;
        bool in_value = false;
        bool done = false;
    } c;
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    settings.on_message_begin = [](llhttp_t* p) {
        auto& got = *static_cast<collector*>(p->data);
        got.v.headers.clear();
        got.v.body.clear();
        got.in_value = false;
        return 0;
    };
    settings.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
        auto& got = *static_cast<collector*>(p->data);
        if (got.in_value || got.v.headers.empty())
            got.v.headers.emplace_back();
        got.in_value = false;
        got.v.headers.back().first.append(at, n);
        return 0;
    };
    settings.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
        auto& got = *static_cast<collector*>(p->data);
        got.in_value = true;
        got.v.headers.back().second.append(at, n);
        return 0;
    };
    settings.on_body = [](llhttp_t* p, const char* at, size_t n) {
        static_cast<collector*>(p->data)->v.body.append(at, n);
        return 0;
    };
    settings.on_message_complete = [](llhttp_t* p) {
        auto& got = *static_cast<collector*>(p->data);
        if (p->status_code < 200)
            return 0; // interim: the final response follows
        got.v.status = p->status_code;
        got.done = true;
        return static_cast<int>(HPE_PAUSED); // one response is all we compare
    };
    llhttp_t parser;
    llhttp_init(&parser, HTTP_RESPONSE, &settings);
    parser.data = &c;
    bool failed = false;
    for (auto piece : pieces) {
        if (c.done || failed)
            break;
        const auto err = llhttp_execute(&parser, piece.data(), piece.size());
        if (err == HPE_PAUSED)
            break;
        if (err != HPE_OK)
            failed = true;
    }
    if (!c.done && !failed && eof) {
        const auto err = llhttp_finish(&parser);
        if (err != HPE_OK && err != HPE_PAUSED)
            failed = true;
    }
    // Trailing spaces of a value are the value's for llhttp; HTTP says they are not (RFC 9110 §5.5).
    for (auto& [name, value] : c.v.headers)
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.pop_back();
    // A connection closed before a final response (none at all, or only interim ones) is an error
    // for us (errc::truncated); llhttp, between two messages, has nothing to report. Both mean
    // "no answer".
    if (eof && !c.done)
        failed = true;
    c.v.accepted = !failed;
    c.v.complete = c.done;
    if (!c.v.complete) {
        c.v.status = 0;
        c.v.headers.clear();
        c.v.body.clear();
    }
    return c.v;
}

} // namespace llm::test
