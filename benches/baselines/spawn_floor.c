/* The smallest possible exec wrapper: the floor `codex-shim exec` is measured against.
 *
 * A static C program that does only what any wrapper must: create the two output pipes,
 * posix_spawn the command with them, and wait for it. Whatever a wrapper process costs on a
 * machine (one more exec, one more process to start and reap) shows up here, so the shim's
 * own share is its time minus this one. It does not copy the pipes: it is only ever timed
 * on commands that print nothing.
 *
 * Built by benches/overhead.sh with `cc -O2 -static`.
 */
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    int out[2], err[2], status;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    if (argc < 2 || pipe(out) || pipe(err)) return 2;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    if (posix_spawnp(&pid, argv[1], &fa, 0, argv + 1, environ)) return 127;
    close(out[1]);
    close(err[1]);
    if (waitpid(pid, &status, 0) < 0) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
