// libFuzzer: our response parser and llhttp must reach the same verdict, status, headers and
// body on any bytes, except where we differ on purpose (tests/differential lists each case).
// Skipped, as far as text can tell:
// - a version other than HTTP/1.x, or a status code that is not three digits from 100 up;
// - an interim, 204 or 304 response with framing headers, an interim response in HTTP/1.0;
// - in the head (in every head, after an interim response): a bare LF, a control character, a
//   header (or trailer) name that is not a token, a line folded with more than one space or after
//   trailing whitespace;
// - a bare CR in the head, or anywhere in a chunked response;
// - whitespace before a header colon, or both Content-Length and Transfer-Encoding, or a tab in
//   Transfer-Encoding, or Content-Length more than once or in trailers.
// A bare LF in the body is data; in chunked framing, llhttp 8 is laxer than RFC 9112 §7.1 in
// several ways, so when we refuse a chunked body that llhttp takes, a strict walk of the chunks
// here decides: framing that really is malformed is a deliberate difference, well-formed
// framing we refused is a bug. Chunk extensions we ignore unread; llhttp 8 judges their syntax.
#include <support/http_verdict.hpp>
#include <support/llhttp_reference.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace {
std::size_t find_ignoring_case(std::string_view text, std::string_view word)
{
    for (std::size_t at = 0; at + word.size() <= text.size(); ++at)
        if (llm::http::syntax::equal_ignoring_case(text.substr(at, word.size()), word))
            return at;
    return std::string_view::npos;
}

bool contains_ignoring_case(std::string_view text, std::string_view word)
{
    return find_ignoring_case(text, word) != std::string_view::npos;
}

// A line that names a field (header or trailer) with a name that is not a token: we refuse it
// (RFC 9110 §5.1), llhttp 8 takes several such. Lines that start with whitespace continue the
// one before.
bool names_a_non_token(std::string_view line)
{
    return !line.empty() && line[0] != ' ' && line[0] != '\t' && line.find(':') != std::string_view::npos &&
           !llm::http::syntax::is_token(line.substr(0, line.find(':')));
}

bool is_chunked(std::string_view bytes)
{
    return contains_ignoring_case(bytes, "hunked");
}

// Whether the status line that starts `head` is one we read differently on purpose. `bytes` is
// the whole input.
bool status_line_differs(std::string_view head, std::string_view bytes)
{
    // What follows the version: the status code and the rest of the head.
    const auto status = head.substr(std::min(head.size(), head.find(' ') + 1));
    // A status code of other than three digits, or below 100: we refuse it (RFC 9112 §4, RFC 9110
    // §15), llhttp 8 takes "20", "2" or "043".
    const auto code = status.substr(0, 4);
    if (code.size() < 3 || code.find_first_not_of("0123456789") < 3 || code[0] == '0' ||
        (code.size() == 4 && code[3] != ' ' && code[3] != '\r'))
        return true;
    // A version other than HTTP/1.0 and 1.1: we refuse it, llhttp 8 reads "HTTP/2.0 200" as HTTP/1.
    if (!head.starts_with("HTTP/1.0 ") && !head.starts_with("HTTP/1.1 "))
        return true;
    // An interim (1xx), 204 or 304 response with framing headers: it has no content (RFC 9110
    // §15) and we read none; llhttp 8 reads a body after it.
    if ((status.starts_with('1') || status.starts_with("204") || status.starts_with("304")) &&
        (contains_ignoring_case(bytes, "content-length") || contains_ignoring_case(bytes, "transfer-encoding")))
        return true;
    // An interim response in HTTP/1.0 (which has none): we skip it like any other, llhttp 8 takes
    // it for the last response on a connection about to close.
    return head.starts_with("HTTP/1.0 1");
}

// Whether the field lines in `lines` hold one we read differently on purpose.
bool field_lines_differ(std::string_view lines)
{
    std::string_view previous;
    for (auto rest = lines; !rest.empty();) {
        const auto line = rest.substr(0, rest.find("\r\n"));
        rest.remove_prefix(std::min(rest.size(), line.size() + 2));
        // A folded line (obs-fold) indented by more than one space, or after a line that ends in
        // whitespace: the fold is that whitespace, the CRLF and the indent, and we replace it all
        // with one space; llhttp 8 keeps the whitespace as it is. RFC 9112 §5.2 allows both.
        if (const auto indent = line.substr(0, line.find_first_not_of(" \t"));
            !indent.empty() && (indent != " " || previous.ends_with(' ') || previous.ends_with('\t')))
            return true;
        previous = line;
        if (names_a_non_token(line))
            return true;
    }
    return false;
}

bool deliberately_different(std::string_view bytes)
{
    // The head, as far as text can tell: up to the first CRLF CRLF, or all of it.
    const auto head = bytes.substr(0, bytes.find("\r\n\r\n"));
    const bool chunked = is_chunked(bytes);
    // Every status line: after an interim response (and any empty lines) the next head follows.
    for (auto rest = bytes;;) {
        const auto this_head = rest.substr(0, rest.find("\r\n\r\n"));
        if (status_line_differs(this_head, bytes))
            return true;
        if (!this_head.starts_with("HTTP/1.1 1") || this_head.size() == rest.size())
            break;
        rest.remove_prefix(this_head.size() + 4);
        while (rest.starts_with("\r\n"))
            rest.remove_prefix(2);
        if (rest.empty())
            break;
    }
    // After an interim response the final head follows, beyond what text takes for the head: then
    // the checks of a head's lines below look at everything.
    const auto heads = head.starts_with("HTTP/1.1 1") ? bytes : head;
    // A bare LF: we accept it as a line end of a head, llhttp 8 refuses it.
    for (std::size_t i = 0; i < heads.size(); ++i)
        if (heads[i] == '\n' && (i == 0 || heads[i - 1] != '\r'))
            return true;
    // Control characters (reason phrase, values): we refuse them as RFC 9110 says, llhttp lets
    // several through.
    for (char c : heads)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7F)
            return true;
    if (field_lines_differ(heads.substr(std::min(heads.size(), heads.find("\r\n") + 2))))
        return true;
    // Content-Length in trailers: framing fields have no place there (RFC 9110 §6.5.1) and we
    // ignore it as any trailer; llhttp 8 judges its value as in a head. Text cannot tell trailers
    // from chunk data, so anywhere after the head counts.
    if (chunked && contains_ignoring_case(bytes.substr(head.size()), "content-length"))
        return true;
    // Trailers are field lines too, and likewise any line after the head counts.
    if (chunked && field_lines_differ(bytes.substr(std::min(bytes.size(), head.size() + 4))))
        return true;
    // A tab after "chunked" in Transfer-Encoding: whitespace around a value is not part of it
    // (RFC 9110 §5.5) and the body is chunked for us; llhttp 8 then reads until the close.
    for (std::size_t at = 0; (at = heads.find('\t', at)) != std::string_view::npos; ++at) {
        const auto line_start = heads.rfind('\n', at);
        if (contains_ignoring_case(heads.substr(line_start == std::string_view::npos ? 0 : line_start, at - line_start),
                                   "transfer-encoding"))
            return true;
    }
    // A bare CR: we refuse it in the head and in chunked framing; llhttp 8 sometimes takes it
    // for a line end. In a chunk's data it is data, but text cannot tell data from framing.
    for (std::size_t i = 0; i < (chunked ? bytes.size() : heads.size()); ++i)
        if (bytes[i] == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n'))
            return true;
    // Content-Length given more than once: we take repeats of one value as that value (RFC 9110
    // §8.6 lets a recipient do either), llhttp 8 refuses any repeat.
    if (const auto first = find_ignoring_case(heads, "content-length");
        first != std::string_view::npos &&
        find_ignoring_case(heads.substr(first + 1), "content-length") != std::string_view::npos)
        return true;
    return bytes.find(" :") != std::string_view::npos || bytes.find("\t:") != std::string_view::npos ||
           (contains_ignoring_case(heads, "content-length") && contains_ignoring_case(heads, "transfer-encoding"));
}

// Whether `body` is chunked exactly as RFC 9112 §7.1 writes it: size [;ext] CRLF, data, CRLF,
// ..., a zero size, trailer lines ending in CRLF, an empty line. With `extensions_too`, without
// chunk extensions: we ignore them unread, as a recipient must ignore those it does not know
// (RFC 9112 §7.1.1); llhttp 8 judges their syntax.
bool strictly_chunked(std::string_view body, bool extensions_too = false)
{
    auto next_line = [&body](std::string_view& line) {
        const auto end = body.find("\r\n");
        if (end == std::string_view::npos)
            return false;
        line = body.substr(0, end);
        body.remove_prefix(end + 2);
        return line.find_first_of("\r\n") == std::string_view::npos;
    };
    for (std::string_view line;;) {
        if (!next_line(line))
            return false;
        std::uint64_t size = 0;
        std::size_t digits = 0;
        for (; digits < line.size() && llm::http::syntax::hex_digit(line[digits]) >= 0; ++digits)
            size = (size << 4) | static_cast<std::uint64_t>(llm::http::syntax::hex_digit(line[digits]));
        if (digits == 0 || digits > 15)
            return false;
        if (extensions_too && digits < line.size())
            return false; // an extension: llhttp 8 judges its syntax, we ignore it
        if (size == 0) {
            while (next_line(line))
                if (line.empty())
                    return true;
            return false;
        }
        if (body.size() < size + 2 || body.substr(size, 2) != "\r\n")
            return false;
        body.remove_prefix(size + 2);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (deliberately_different(bytes))
        return 0;
    // llhttp has no limit on the number of fields; ours is a defence, not a difference in reading.
    llm::http::response_parser::limits unlimited_fields;
    unlimited_fields.header_count = std::size_t(-1);
    const auto ours = llm::test::our_verdict({bytes}, true, unlimited_fields);
    const auto theirs = llm::test::llhttp_verdict({bytes}, true);
    const auto body = bytes.substr(std::min(bytes.size(), bytes.find("\r\n\r\n") + 4));
    if (!ours.accepted && theirs.accepted && is_chunked(bytes) && !strictly_chunked(body))
        return 0; // llhttp 8 took chunk framing that is not CRLF-exact; we refuse it on purpose
    if (ours.accepted && !theirs.accepted && is_chunked(bytes) && !strictly_chunked(body, true))
        return 0; // a chunk extension llhttp 8 judged malformed: we ignore extensions unread
    if (ours.accepted != theirs.accepted || (ours.complete && theirs.complete && !(ours == theirs)))
        std::abort();
    return 0;
}
