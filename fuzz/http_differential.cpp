// libFuzzer: our response parser and llhttp must reach the same verdict, status, headers and
// body on any bytes, except where we differ on purpose (tests/differential lists each case):
// inputs with a bare LF or CR, control characters in the head, whitespace before a header
// colon, or both Content-Length and Transfer-Encoding are skipped.
#include <support/http_verdict.hpp>
#include <support/llhttp_reference.hpp>

#include <cstdint>
#include <cstdlib>

namespace {
bool deliberately_different(std::string_view bytes)
{
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r'))
            return true; // a bare LF: we accept it as a line end
        if (bytes[i] == '\r' && (i + 1 == bytes.size() || bytes[i + 1] != '\n'))
            return true; // a bare CR: we refuse it anywhere in the head, llhttp sometimes takes it
    }
    // Control characters in the head (reason phrase, values): we refuse them as RFC 9110 says,
    // llhttp lets several through.
    const auto head_end = bytes.find("\r\n\r\n");
    for (char c : bytes.substr(0, head_end))
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7F)
            return true;
    return bytes.find(" :") != std::string_view::npos || bytes.find("\t:") != std::string_view::npos ||
           (bytes.find("ontent-") != std::string_view::npos && bytes.find("ransfer-") != std::string_view::npos);
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (deliberately_different(bytes))
        return 0;
    const auto ours = llm::test::our_verdict({bytes}, true);
    const auto theirs = llm::test::llhttp_verdict({bytes}, true);
    if (ours.accepted != theirs.accepted || (ours.complete && theirs.complete && !(ours == theirs)))
        std::abort();
    return 0;
}
