//! A small seeded random number generator (SplitMix64): the same seed and
//! case number always draw the same case, on any machine.

/// A SplitMix64 stream.
pub struct Rng(u64);

impl Rng {
    /// The stream of case `case` of run `seed`: independent of every other
    /// case, so that one case replays alone.
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut rng = Rng(seed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next();
        rng
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A fraction in `[0, 1)`.
    pub fn fraction(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether an event of probability `p` happens.
    pub fn chance(&mut self, p: f64) -> bool {
        self.fraction() < p
    }

    /// One of `items`, picked with the weights given.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut pick = self.below(u64::from(total)) as u32;
        for (item, weight) in items {
            if pick < *weight {
                return *item;
            }
            pick -= weight;
        }
        unreachable!("weights sum to {total}")
    }

    /// One of `items`, uniformly.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

#[test]
fn a_case_draws_the_same_numbers_every_time() {
    let a: Vec<u64> = (0..4).map(|_| Rng::for_case(7, 3).next()).collect();
    assert!(a.windows(2).all(|w| w[0] == w[1]));
    assert_ne!(Rng::for_case(7, 3).next(), Rng::for_case(7, 4).next());
    assert_ne!(Rng::for_case(7, 3).next(), Rng::for_case(8, 3).next());
}
