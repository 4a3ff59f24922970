// Provider: speaks one vendor's wire format for an HTTP transport. It encodes a normalized
// llm::request into an http::request (URL, auth header, JSON body) and decodes the
// http::response, success or error, back into an llm::response or an llm::error.
#pragma once

#include <llm/core/chunk.hpp>
#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/http/message.hpp>

#include <concepts>    // same_as
#include <string_view> // stream bytes
#include <type_traits> // is_empty_v
#include <vector>      // chunks

namespace llm {

template <class P>
concept provider_policy = requires(const P& p, const request& r, const http::response& answer)
{
    {
        p.encode(r)
        } -> std::same_as<result<http::request>>;
    {
        p.decode(answer)
        } -> std::same_as<result<response>>;
};

// Decodes a streamed answer's body as it arrives: feed() each piece, appending the chunks it
// completes; finish() at the end of the body, which fails if the provider's terminal event
// never came. An error event inside the stream is an error from feed().
template <class D>
concept stream_decoder = requires(D& d, std::string_view bytes, std::vector<chunk>& out)
{
    {
        d.feed(bytes, out)
        } -> std::same_as<result<void>>;
    {
        d.finish(out)
        } -> std::same_as<result<void>>;
};

// A provider that can stream: encode_stream() asks for a streamed answer, decoder() makes a
// fresh stream decoder for one answer. An error status is decoded by decode(), like any other.
template <class P>
concept streaming_provider = provider_policy<P> && requires(const P& p, const request& r)
{
    {
        p.encode_stream(r)
        } -> std::same_as<result<http::request>>;
    {
        p.decoder()
        } -> stream_decoder;
};

} // namespace llm

namespace llm::provider {

// For model transports, which speak llm::request themselves. Paired with an HTTP transport
// it refuses every call, and llm::client refuses to compile that pairing.
struct none {
    static result<http::request> encode(const request&)
    {
        return fail(errc::invalid_configuration, "no provider configured: an HTTP transport needs one");
    }
    static result<response> decode(const http::response&)
    {
        return fail(errc::invalid_configuration, "no provider configured: an HTTP transport needs one");
    }
};
static_assert(llm::provider_policy<none> && std::is_empty_v<none>);

} // namespace llm::provider
