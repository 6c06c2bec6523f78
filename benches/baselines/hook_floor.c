/* The smallest possible hook: the floor `codex-shim hook` is measured against.
 *
 * A static C program that does only what any recording hook must: read the payload from
 * stdin, open the log (its one argument), lock it, append one line, unlock and close. It
 * parses nothing, redacts nothing and looks for no repository, so the shim's own share is
 * its time minus this one.
 *
 * Built by benches/overhead.sh with `cc -O2 -static`, like spawn_floor.c.
 */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

int main(int argc, char **argv) {
    static char buf[1 << 16];
    size_t len = 0;
    ssize_t n;
    if (argc != 2) return 2;
    while (len < sizeof buf - 1 && (n = read(0, buf + len, sizeof buf - 1 - len)) > 0) len += n;
    buf[len++] = '\n';
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return 0;
    if (flock(fd, LOCK_EX) == 0) {
        (void)!write(fd, buf, len);
        flock(fd, LOCK_UN);
    }
    close(fd);
    return 0;
}
