/* udpecho PORT: answer every UDP datagram with itself (the test image's
 * busybox has no UDP server).  Built static by the tests and bind-mounted
 * into a container. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
        return 1;
    for (;;) {
        char buf[2048];
        struct sockaddr_in from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
        if (n >= 0)
            sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
    }
}
