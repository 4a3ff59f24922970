// llm::http::response_parser: an HTTP/1.1 response, pushed in pieces as they arrive.
//
//   response_parser p;                       // one per response
//   std::error_code ec;
//   p.put(bytes, sink, ec);                  // as often as bytes arrive, split anywhere
//   p.finish(sink, ec);                      // when the peer closed the connection
//
// The sink receives on_headers(status, headers&&) once the head is complete (interim 1xx
// responses are skipped; the headers are handed over, not copied), then on_body(bytes) for each piece of the body as it
// arrives, in order and never copied (a Content-Length body, a chunked body with its framing removed, or a body that
// runs until the connection closes). Every error is final; every limit has its own code (llm::http::errc).
#pragma once

#include <llm/detail/decimal.hpp>
#include <llm/http/error.hpp>
#include <llm/http/message.hpp>
#include <llm/http/syntax.hpp>

#include <algorithm>    // std::min
#include <cstddef>      // std::size_t
#include <cstdint>      // std::uint64_t
#include <cstring>      // std::memchr
#include <limits>       // chunk size overflow
#include <string>       // the partial line
#include <string_view>  // put
#include <system_error> // error_code

namespace llm::http {

class response_parser {
public:
    struct limits {
        std::size_t header_bytes = std::size_t{64} << 10;   // status line + headers (+ trailers)
        std::size_t header_count = 256;                     // header fields (+ trailer fields)
        std::uint64_t body_bytes = std::uint64_t{64} << 20; // the body, after chunked framing
    };

    response_parser() = default;
    explicit response_parser(limits l) : limits_(l) {}

    // The response answers a HEAD request: whatever its headers say, it has no body.
    void expect_no_body() noexcept { no_body_ = true; }

    // Parses the next piece. Returns how many bytes belong to this response: all of them until
    // it is complete; bytes after its end are left for the caller.
    template <class Sink>
    std::size_t put(std::string_view bytes, Sink& sink, std::error_code& ec)
    {
        ec = error_;
        std::size_t used = 0;
        while (!error_ && state_ != state::done && used < bytes.size()) {
            const std::string_view rest = bytes.substr(used);
            if (state_ == state::body_length || state_ == state::chunk_data) {
                const auto piece =
                    rest.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size())));
                remaining_ -= piece.size();
                used += piece.size();
                sink.on_body(piece);
                if (remaining_ == 0)
                    state_ = state_ == state::body_length ? state::done : state::chunk_data_end;
            } else if (state_ == state::body_until_close) {
                // Up to the limit, then the error: the same bytes arrive however the body is split.
                const auto piece = rest.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(
                                                      limits_.body_bytes - body_bytes_, rest.size())));
                body_bytes_ += piece.size();
                used += piece.size();
                if (!piece.empty())
                    sink.on_body(piece);
                if (piece.size() < rest.size())
                    fail(errc::body_limit);
            } else {
                used += take_line(rest, sink);
            }
        }
        ec = error_;
        return used;
    }

    // The peer closed the connection. Ends a body that runs until the close; anything else
    // unfinished is errc::truncated.
    template <class Sink>
    void finish(Sink&, std::error_code& ec)
    {
        if (!error_ && state_ == state::body_until_close)
            state_ = state::done;
        if (!error_ && state_ != state::done)
            error_ = make_error_code(errc::truncated);
        ec = error_;
    }

    bool done() const noexcept { return state_ == state::done; }
    // No byte of a response arrived yet: a closed pooled connection, safe to retry elsewhere.
    bool started() const noexcept { return started_; }
    int status() const noexcept { return status_; }
    const http::headers& trailers() const noexcept { return trailers_; }
    // The connection may carry another request after this response.
    bool keep_alive() const noexcept { return keep_alive_ && state_ == state::done; }

private:
    enum class state {
        status_line,
        header_line,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailer_line,
        body_length,
        body_until_close,
        done
    };

    // Consumes up to and including the next LF (or everything, if none), and handles the line.
    template <class Sink>
    std::size_t take_line(std::string_view rest, Sink& sink)
    {
        started_ = true;
        const void* found = std::memchr(rest.data(), '\n', rest.size());
        const std::size_t length =
            found ? static_cast<std::size_t>(static_cast<const char*>(found) - rest.data()) + 1 : rest.size();
        if (!count_line(length))
            return length;
        if (!found) {
            line_.append(rest);
            return length;
        }
        std::string_view text = rest.substr(0, length - 1);
        if (!line_.empty()) {
            line_.append(text);
            text = line_;
        }
        if (!text.empty() && text.back() == '\r')
            text.remove_suffix(1);
        else if (state_ == state::chunk_size || state_ == state::chunk_data_end || state_ == state::trailer_line)
            fail(errc::bad_chunk); // RFC 9112 §2.2 tolerates a bare LF in the head; we go no further
        if (!error_)
            handle_line(text, sink);
        line_.clear();
        return length;
    }

    // Lines of the head count against header_bytes; chunk-size lines against a small bound of
    // their own, since a chunk extension has no business being long.
    bool count_line(std::size_t length)
    {
        const bool head = state_ == state::status_line || state_ == state::header_line || state_ == state::trailer_line;
        if (head) {
            head_bytes_ += length;
            if (head_bytes_ > limits_.header_bytes)
                return fail(errc::header_limit);
        } else if (line_.size() + length > max_chunk_line) {
            return fail(errc::bad_chunk);
        }
        return true;
    }

    bool count_body(std::uint64_t n)
    {
        body_bytes_ += n;
        if (body_bytes_ > limits_.body_bytes)
            return fail(errc::body_limit);
        return true;
    }

    template <class Sink>
    void handle_line(std::string_view text, Sink& sink)
    {
        switch (state_) {
        case state::status_line:
            status_line(text);
            break;
        case state::header_line:
            if (text.empty())
                end_of_head(sink);
            else
                header_line(text, headers_);
            break;
        case state::chunk_size:
            chunk_size(text);
            break;
        case state::chunk_data_end:
            if (!text.empty())
                fail(errc::bad_chunk);
            else
                state_ = state::chunk_size;
            break;
        case state::trailer_line:
            if (text.empty())
                state_ = state::done;
            else
                header_line(text, trailers_);
            break;
        default:
            break;
        }
    }

    void status_line(std::string_view text)
    {
        // Empty lines before a status line are skipped, as llhttp does and RFC 9112 §2.2 asks of a
        // server before a request line; they count against header_bytes, so a flood of them ends.
        if (text.empty())
            return;
        // "HTTP/1.1 200 OK": version, status, then an optional reason.
        if (text.size() < 12 || text.substr(0, 7) != "HTTP/1." || (text[7] != '0' && text[7] != '1') ||
            text[8] != ' ' || (text.size() > 12 && text[12] != ' ')) {
            fail(errc::bad_status_line);
            return;
        }
        int status = 0;
        for (char c : text.substr(9, 3)) {
            if (c < '0' || c > '9') {
                fail(errc::bad_status_line);
                return;
            }
            status = status * 10 + (c - '0');
        }
        if (status < 100) {
            fail(errc::bad_status_line);
            return;
        }
        if (!syntax::is_field_value(text)) {
            fail(errc::bad_status_line);
            return;
        }
        status_ = status;
        http_1_0_ = text[7] == '0';
        headers_.fields.clear();
        state_ = state::header_line;
    }

    void header_line(std::string_view text, http::headers& into)
    {
        if (text.front() == ' ' || text.front() == '\t') {
            // Obsolete line folding: a user agent must read it as one space (RFC 9112 §5.2).
            const auto more = syntax::trim(text);
            if (into.fields.empty() || !syntax::is_field_value(more)) {
                fail(errc::bad_header);
                return;
            }
            auto& value = into.fields.back().second;
            if (!more.empty())
                value.append(value.empty() ? "" : " ").append(more);
            return;
        }
        const auto colon = text.find(':');
        if (colon == std::string_view::npos || !syntax::is_token(text.substr(0, colon))) {
            fail(errc::bad_header);
            return;
        }
        const auto value = syntax::trim(text.substr(colon + 1));
        if (!syntax::is_field_value(value)) {
            fail(errc::bad_header);
            return;
        }
        if (++header_count_ > limits_.header_count) {
            fail(errc::header_count_limit);
            return;
        }
        if (into.fields.empty())
            into.fields.reserve(16);                            // a provider's answer carries a dozen or two
        into.fields.emplace_back(text.substr(0, colon), value); // the strings made in place
    }

    template <class Sink>
    void end_of_head(Sink& sink)
    {
        if (status_ < 200) { // interim: 100 Continue, 103 Early Hints; the real answer follows
            state_ = state::status_line;
            header_count_ = 0;
            return;
        }
        bool chunked = false, has_encoding = false, has_length = false, close = http_1_0_;
        std::uint64_t length = 0;
        for (const auto& [name, value] : headers_.fields) {
            if (syntax::equal_ignoring_case(name, "transfer-encoding")) {
                // Only the last coding matters: chunked frames the body; anything else runs to close.
                // An empty field adds no coding to the list (RFC 9110 §5.3), so it changes nothing.
                if (syntax::trim(value).empty())
                    continue;
                has_encoding = true;
                chunked = ends_with_token(value, "chunked");
                if (!chunked)
                    close = true;
            } else if (syntax::equal_ignoring_case(name, "content-length")) {
                std::uint64_t n = 0;
                if (!parse_decimal(value, n) || (has_length && n != length)) {
                    fail(errc::bad_content_length);
                    return;
                }
                has_length = true;
                length = n;
            } else if (syntax::equal_ignoring_case(name, "connection")) {
                if (has_token(value, "close"))
                    close = true;
                else if (has_token(value, "keep-alive"))
                    close = false;
            }
        }
        keep_alive_ = !close;
        sink.on_headers(status_, std::move(headers_));
        headers_.fields.clear(); // moved from: valid but unspecified
        if (no_body_ || status_ == 204 || status_ == 304) {
            state_ = state::done;
        } else if (has_encoding) {
            // With both, Transfer-Encoding wins; the Content-Length may be a smuggling attempt,
            // so the connection is not trusted with another request.
            state_ = chunked ? state::chunk_size : state::body_until_close;
            if (!chunked || has_length)
                keep_alive_ = false;
        } else if (has_length) {
            if (length > limits_.body_bytes) {
                fail(errc::body_limit);
                return;
            }
            remaining_ = length;
            body_bytes_ = length;
            state_ = length == 0 ? state::done : state::body_length;
        } else {
            keep_alive_ = false;
            state_ = state::body_until_close;
        }
    }

    void chunk_size(std::string_view text)
    {
        // hex digits, then optional whitespace and ;extensions, which we ignore.
        std::uint64_t size = 0;
        std::size_t i = 0;
        for (; i < text.size(); ++i) {
            const int digit = syntax::hex_digit(text[i]);
            if (digit < 0)
                break;
            if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
                fail(errc::chunk_size_overflow);
                return;
            }
            size = (size << 4) | static_cast<std::uint64_t>(digit);
        }
        const auto rest = syntax::trim(text.substr(i));
        if (i == 0 || (!rest.empty() && rest.front() != ';') || !syntax::is_field_value(rest)) {
            fail(errc::bad_chunk);
            return;
        }
        if (size == 0) {
            state_ = state::trailer_line;
            return;
        }
        if (!count_body(size))
            return;
        remaining_ = size;
        state_ = state::chunk_data;
    }

    static bool parse_decimal(std::string_view text, std::uint64_t& out) noexcept
    {
        const auto n = llm::detail::decimal(text);
        out = n.value_or(0);
        return n.has_value();
    }

    // Comma-separated list membership, ignoring case and whitespace.
    static bool has_token(std::string_view list, std::string_view token) noexcept
    {
        while (!list.empty()) {
            const auto comma = list.find(',');
            if (syntax::equal_ignoring_case(syntax::trim(list.substr(0, comma)), token))
                return true;
            if (comma == std::string_view::npos)
                break;
            list.remove_prefix(comma + 1);
        }
        return false;
    }

    static bool ends_with_token(std::string_view list, std::string_view token) noexcept
    {
        const auto comma = list.rfind(',');
        return syntax::equal_ignoring_case(
            syntax::trim(comma == std::string_view::npos ? list : list.substr(comma + 1)), token);
    }

    bool fail(errc e)
    {
        if (!error_)
            error_ = make_error_code(e);
        return false;
    }

    static constexpr std::size_t max_chunk_line = 4096;

    limits limits_;
    state state_ = state::status_line;
    std::string line_;           // a line not yet ended
    std::size_t head_bytes_ = 0; // bytes of status line, headers and trailers so far
    std::size_t header_count_ = 0;
    std::uint64_t body_bytes_ = 0; // body bytes announced or received
    std::uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
    int status_ = 0;
    bool http_1_0_ = false;
    bool keep_alive_ = false;
    bool no_body_ = false;
    bool started_ = false;
    http::headers headers_;
    http::headers trailers_;
    std::error_code error_;
};

// A sink that keeps the whole response, for callers that do not stream.
struct buffered_response {
    http::response response;
    void on_headers(int status, http::headers&& h)
    {
        response.status = status;
        response.headers = std::move(h);
    }
    void on_body(std::string_view piece) { response.body.append(piece); }
};

} // namespace llm::http
