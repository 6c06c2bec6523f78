//! Shared by the redaction tests: a seeded generator of fake secrets (xorshift64*), so
//! runs are deterministic and no value is real.

/// A seeded xorshift64* generator.
pub struct Rng(pub u64);

#[allow(dead_code)] // each test crate uses a different subset
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// `n` characters of `alphabet`. Random strings over alphabets with digits contain one
    /// when 8+ long (real tokens do with overwhelming probability; short fakes might not).
    pub fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        loop {
            let s: String = (0..n).map(|_| a[self.below(a.len())] as char).collect();
            let wants_digit = a.iter().any(u8::is_ascii_digit) && n >= 8;
            if !wants_digit || s.bytes().any(|b| b.is_ascii_digit()) {
                return s;
            }
        }
    }
    pub fn alnum(&mut self, n: usize) -> String {
        self.pick(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            n,
        )
    }
    pub fn hex(&mut self, n: usize) -> String {
        self.pick("0123456789abcdef", n)
    }
    pub fn digits(&mut self, n: usize) -> String {
        self.pick("0123456789", n)
    }
}
