fn main() {
    eprintln!("codex-analyzer: not yet implemented");
}
