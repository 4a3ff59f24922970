// Our response parser against llhttp (the parser inside Node.js) on the same bytes in the same
// splits: same verdict, and for accepted responses the same status, headers and body. Where we
// differ on purpose, the case is named here with the reason.
#include <support/fixtures.hpp>
#include <support/http_verdict.hpp>
#include <support/llhttp_reference.hpp>

#include <catch2/catch.hpp>

#include <map>

using llm::test::http_verdict;
using llm::test::llhttp_verdict;
using llm::test::our_verdict;
using llm::test::pieces_of;

namespace {

struct sample {
    std::string name;
    std::string wire;
    // The connection closes after the bytes. Samples whose status llhttp reads as interim keep
    // it open: closed, both parsers would see no final response.
    bool eof = true;
};

std::vector<sample> samples()
{
    return {
        {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"},
        {"empty body", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
        {"no content", "HTTP/1.1 204 No Content\r\n\r\n"},
        {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
        {"chunk extensions", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n"},
        {"trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-T: 1\r\n\r\n"},
        {"until close", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\ndata: 2\n\n"},
        {"http/1.0", "HTTP/1.0 200 OK\r\n\r\nold"},
        {"empty lines before the status line", "\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"an empty line after an interim response",
         "HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"continue then ok", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"repeated headers", "HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nSet-Cookie: b\r\nContent-Length: 0\r\n\r\n"},
        {"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"},
        {"spaces around value", "HTTP/1.1 200 OK\r\nX-A:   padded   \r\nContent-Length: 0\r\n\r\n"},
        {"empty header value", "HTTP/1.1 200 OK\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n"},
        {"rate limited", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 20\r\nContent-Length: 2\r\n\r\n{}"},
        {"truncated head", "HTTP/1.1 200 OK\r\nContent-Len"},
        {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"},
        {"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"},
        {"bad version", "HTTP/2 200 OK\r\n\r\n"},
        {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n"},
        {"space before colon", "HTTP/1.1 200 OK\r\nName : x\r\nContent-Length: 0\r\n\r\n"},
        {"header without colon", "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n"},
        {"bad content length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"},
        {"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
        {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
        {"chunk without crlf", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n"},
        // A bare LF may end the head's lines (see below), never the chunked framing's or trailers'.
        {"bare LF after a trailer",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\n\r\n"},
        {"bare LF after chunk data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\n0\r\n\r\n"},
        {"bare LF after chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n0\r\n\r\n"},
        {"CR in the data, bare LF after it",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nok\r\n0\r\n\r\n"},
        {"folded header", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
        {"folded header indented by more than a space",
         "HTTP/1.1 200 OK\r\nX-A: a\r\n\t  b\r\nContent-Length: 0\r\n\r\n"},
        {"whitespace before a fold", "HTTP/1.1 200 OK\r\nX-A: a \r\n b\r\nContent-Length: 0\r\n\r\n"},
        {"nul in value", std::string("HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n", 48)},
        {"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok"},
        {"two-digit status", "HTTP/1.1 20 0OK\r\nContent-Length: 2\r\n\r\nok", false},
        {"HTTP/2.0 status line", "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"interim response with a body", "HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: x\r\n\r\nnot a response\r\n",
         false},
        {"status below 100", "HTTP/1.1 043 OK\r\nContent-Length: 2\r\n\r\nok", false},
        {"space inside a header name", "HTTP/1.1 200 OK\r\nContent Type: text/plain\r\nContent-Length: 2\r\n\r\nok"},
        {"whitespace before the CRLF after chunk data",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\t\n0\r\n\r\n"},
        {"CR without LF after chunk data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r"
                                           "\xfc"
                                           "0\r\n\r\n"},
        {"a chunk extension that is not a token",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\xb4\xb4\r\nok\r\n0\r\n\r\n"},
        {"an HTTP/1.0 interim response", "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"a trailer name that is not a token",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX T: 1\r\n\r\n"},
        {"a tab after chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
        {"both framings",
         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
        {"a length with leading zeros", "HTTP/1.1 200 OK\r\nContent-Length: 000000000000000000000000000002\r\n\r\nok"},
        {"a length beyond 64 bits", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok"},
        {"Content-Length in trailers",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nContent-Length: 1x\r\n\r\n"},
        {"a bare CR after an interim response",
         "HTTP/1.1 100 Continue\r\n\r\n\rHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
        {"an empty Transfer-Encoding after chunked",
         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n2\r\nok\r\n0\r\n\r\n"},
        {"one length given twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"},
    };
}

// Cases where we disagree with llhttp on purpose.
const std::map<std::string, std::string> deliberate = {
    {"bare LF line ends", "RFC 9112 §2.2 lets a recipient accept a bare LF; we do, llhttp does not"},
    {"status below 100", "status codes run from 100 to 599 (RFC 9110 §15); llhttp 8 takes 043, we refuse it"},
    {"interim response with a body", "a 1xx response has no content (RFC 9110 §15.2): we read the next response "
                                     "after its head, llhttp 8 reads a body from a 1xx with Transfer-Encoding"},
    {"HTTP/2.0 status line", "HTTP/2 has no status line; a peer that sends one does not speak HTTP/1.x and we stop, "
                             "llhttp 8 reads on"},
    {"two-digit status", "a status code is three digits (RFC 9112 §4); llhttp 8 reads \"20\" as one, we refuse it"},
    {"space inside a header name", "a field name is a token (RFC 9110 §5.1), and a space in one is a smuggling "
                                   "favourite; llhttp 8 takes it, we refuse it"},
    {"whitespace before the CRLF after chunk data",
     "llhttp 8 skips what follows a chunk's data up to a line end; RFC 9112 §7.1 wants CRLF right after it, and so "
     "do we"},
    {"CR without LF after chunk data",
     "llhttp 8 (Debian's) takes a CR followed by any byte as the end of a chunk, the laxity behind CVE-2023-30589 "
     "and gone from llhttp 9; chunked framing needs CRLF, and we refuse anything else"},
    {"folded header indented by more than a space",
     "RFC 9112 §5.2 has a recipient replace an obs-fold with one or more spaces: we replace it with one, llhttp 8 "
     "keeps the indent as it is"},
    {"whitespace before a fold", "an obs-fold begins with the whitespace before its CRLF (RFC 9112 §5.2): we "
                                 "replace all of it with one space, llhttp 8 keeps that whitespace"},
    {"space before colon", "whitespace between a field name and its colon is how request smuggling begins; a "
                           "client may refuse it (RFC 9112 §5.1) and we do, llhttp accepts it in responses"},
    {"a chunk extension that is not a token",
     "a recipient must ignore chunk extensions it does not know (RFC 9112 §7.1.1), and we ignore them unread; "
     "llhttp 8 refuses one whose name is not a token"},
    {"an HTTP/1.0 interim response", "a client must parse 1xx responses before the final one, even unexpected ones "
                                     "(RFC 9110 §15.2): we skip it whatever its version; llhttp 8 reads an HTTP/1.0 "
                                     "one as the last response before the connection closes"},
    {"a trailer name that is not a token",
     "a trailer field's name is a token like a header's (RFC 9110 §5.1, §6.5); we refuse it, llhttp 8 takes it"},
    {"a tab after chunked", "whitespace around a field value is not part of it (RFC 9110 §5.5), so the body is "
                            "chunked; llhttp 8 takes a tab there for part of the coding and reads until the close"},
    {"Content-Length in trailers", "framing fields have no place in trailers (RFC 9110 §6.5.1) and we ignore them "
                                   "like any trailer we do not use; llhttp 8 judges the value as in a head"},
    {"a bare CR after an interim response",
     "a bare CR is invalid (RFC 9112 §2.2) and we refuse it wherever a head may be; llhttp 8 skips it before a "
     "status line"},
    {"one length given twice", "a recipient may take a Content-Length repeated with one value as that value "
                               "(RFC 9110 §8.6), and we do; llhttp 8 refuses any repeat"},
    {"both framings", "llhttp rejects a response with both Content-Length and Transfer-Encoding; we follow RFC 9112 "
                      "§6.3: Transfer-Encoding wins, and the connection is not reused"},
};

} // namespace

TEST_CASE("our parser and llhttp agree on every sample, whole and in random splits", "[differential][http]")
{
    for (const auto& s : samples()) {
        INFO("sample: " << s.name);
        const auto ours = our_verdict({s.wire}, s.eof);
        const auto theirs = llhttp_verdict({s.wire}, s.eof);
        if (deliberate.count(s.name)) {
            INFO("deliberate difference: " << deliberate.at(s.name));
            CHECK_FALSE(ours == theirs); // if llhttp changes its mind, this list must change too
            continue;
        }
        CHECK(ours.accepted == theirs.accepted);
        CHECK(ours == theirs);
        for (unsigned seed = 1; seed <= 25; ++seed) {
            const auto pieces = pieces_of(s.wire, seed, 7);
            CHECK(our_verdict(pieces, s.eof) == ours);
            CHECK(llhttp_verdict(pieces, s.eof) == theirs);
        }
    }
}

TEST_CASE("our parser and llhttp agree on every recorded provider body, framed both ways",
          "[differential][http][fixtures]")
{
    for (const auto& path : llm::test::recorded_bodies()) {
        INFO("fixture " << path.filename().string());
        const std::string body = llm::test::read_file(path);
        const std::string by_length =
            "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
        std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (std::size_t at = 0; at < body.size(); at += 100) {
            const auto piece = std::string_view(body).substr(at, 100);
            char size[16];
            std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
            chunked.append(size).append(piece).append("\r\n");
        }
        chunked += "0\r\n\r\n";
        for (const auto& wire : {by_length, chunked}) {
            const auto pieces = pieces_of(wire, static_cast<unsigned>(body.size()), 500);
            const auto ours = our_verdict(pieces, false);
            CHECK(ours.accepted);
            CHECK(ours.body == body);
            CHECK(ours == llhttp_verdict(pieces, false));
        }
    }
}
