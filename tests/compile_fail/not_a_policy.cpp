// expect: this type is not a policy
// A type that satisfies no policy concept is named in a readable error.
#include <llm/client.hpp>

#include <support/scripted_transport.hpp>

struct not_a_policy {};

int main()
{
    return sizeof(llm::client<llm::test::scripted, not_a_policy>);
}
