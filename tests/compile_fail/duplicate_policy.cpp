// expect: more than one retry policy given
#include <llm/client.hpp>

#include <support/scripted_transport.hpp>

int main()
{
    return sizeof(llm::client<llm::test::scripted, llm::retry::none, llm::retry::none>);
}
