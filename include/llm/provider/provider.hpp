// Provider: speaks one vendor's wire format for an HTTP transport. It encodes a normalized
// llm::request into an http::request (URL, auth header, JSON body) and decodes the
// http::response, success or error, back into an llm::response or an llm::error.
#pragma once

#include <llm/core/request.hpp>
#include <llm/core/response.hpp>
#include <llm/core/result.hpp>
#include <llm/http/message.hpp>

#include <concepts>    // same_as
#include <type_traits> // is_empty_v

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
