// Recorded provider traffic, served again: a fixture's body with the status and headers of its
// .meta.json (200 and no headers when it has none), as a loopback-server script that sends the
// body chunked in pieces of random sizes, so decoders meet it split as a network splits it.
#pragma once

#include <support/fixtures.hpp>
#include <support/loopback_server.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace llm::test {

struct recorded {
    std::string name; // e.g. "openai/chat-stream-refusal.sse"
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

// `relative` under the fixtures folder, e.g. "anthropic/messages-stream-text.sse".
inline recorded load_recorded(const std::string& relative)
{
    recorded r;
    r.name = relative;
    const auto path = fixtures_dir() / relative;
    r.body = read_file(path);
    auto meta = path;
    meta.replace_extension(".meta.json");
    if (std::filesystem::exists(meta)) {
        const auto v = boost::json::parse(read_file(meta));
        if (const auto* status = v.as_object().if_contains("status"))
            r.status = static_cast<int>(status->to_number<std::int64_t>());
        if (const auto* headers = v.as_object().if_contains("headers"))
            for (const auto& [name, value] : headers->as_object())
                if (name != "content-length" && name != "transfer-encoding" && name != "content-encoding" &&
                    name != "connection" && value.is_string())
                    r.headers.emplace_back(std::string(name), std::string(value.as_string()));
    }
    return r;
}

// The recorded answer as a chunked HTTP response, cut into pieces of 1 to 300 bytes.
inline script replay(const recorded& r, unsigned seed = 1)
{
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " Recorded\r\nTransfer-Encoding: chunked\r\n";
    for (const auto& [name, value] : r.headers)
        head += name + ": " + value + "\r\n";
    head += "\r\n";
    std::string wire = head;
    std::mt19937 cuts(seed);
    std::uniform_int_distribution<std::size_t> size(1, 300);
    for (std::size_t at = 0; at < r.body.size();) {
        const auto n = std::min(size(cuts), r.body.size() - at);
        wire += chunk_of(std::string_view(r.body).substr(at, n));
        at += n;
    }
    wire += "0\r\n\r\n";
    return {server_action::send{std::move(wire)}};
}

} // namespace llm::test
