import { describe, expect, it } from 'vitest'
import { Shared } from '../src/constants.ts'
import { LEVELS, SLOT_BITS, SLOTS, Wheel } from '../src/engine/wheel.ts'

/** Ticks of one slot at `level`. */
const width = (level: number): number => 2 ** (level * SLOT_BITS)

/** Polls and returns the emitted [index, gen] pairs in order. */
function drain(wheel: Wheel, now: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  wheel.poll(now, (index, gen) => {
    out.push([index, gen])
  })
  return out
}

/** Polls and returns the emitted indices in order. */
function fired(wheel: Wheel, now: number): number[] {
  return drain(wheel, now).map(([index]) => index)
}

describe('Wheel: construction and accessors', () => {
  it('starts empty at the given tick', () => {
    for (const start of [0, 1, 63, 64, 2 ** 32 - 1, 2 ** 32, Shared.MAX_TICK - 1, Shared.MAX_TICK]) {
      const wheel = new Wheel(start)
      expect(wheel.elapsed()).toBe(start)
      expect(wheel.size()).toBe(0)
      expect(wheel.nextExpiration()).toBeUndefined()
      expect(wheel.isArmed(0)).toBe(false)
      expect(wheel.when(0)).toBeUndefined()
      expect(fired(wheel, start + 1000)).toEqual([])
      expect(wheel.elapsed()).toBe(start + 1000)
    }
  })

  it('rejects a start that is not a non-negative safe integer', () => {
    for (const start of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) {
      expect(() => new Wheel(start)).toThrow(RangeError)
    }
  })

  it('rejects indices outside 0..=MAX_INDEX and answers false/undefined for them', () => {
    const wheel = new Wheel(0)
    for (const index of [-1, 1.5, Number.NaN, Shared.MAX_INDEX + 1, 2 ** 32]) {
      expect(() => wheel.arm(index, 0, 10)).toThrow(RangeError)
      expect(wheel.isArmed(index)).toBe(false)
      expect(wheel.when(index)).toBeUndefined()
      expect(wheel.cancel(index)).toBe(false)
    }
    expect(wheel.size()).toBe(0)
    // Out of the current storage but valid: simply not armed.
    expect(wheel.isArmed(1_000_000)).toBe(false)
    expect(wheel.cancel(1_000_000)).toBe(false)
  })

  it('grows storage by doubling and keeps the armed timers intact', () => {
    const wheel = new Wheel(0)
    wheel.arm(3, 7, 100)
    wheel.arm(5, 8, 5)
    wheel.arm(100_000, 9, 50) // far beyond the initial storage
    wheel.arm(70, 10, 50)
    expect(wheel.size()).toBe(4)
    expect(wheel.when(3)).toBe(100)
    expect(wheel.when(100_000)).toBe(50)
    expect(wheel.isArmed(99_999)).toBe(false)
    expect(drain(wheel, 1000)).toEqual([
      [5, 8],
      [100_000, 9],
      [70, 10],
      [3, 7],
    ])
    expect(wheel.size()).toBe(0)
  })
})

describe('Wheel: expiry order', () => {
  it('expires earlier deadlines first, each exactly at its tick and not before', () => {
    const wheel = new Wheel(0)
    const deadlines = [700, 3, 64, 65, 63, 4096, 1, 200_000, 4095]
    deadlines.forEach((when, index) => wheel.arm(index, index, when))
    const order: Array<[number, number]> = []
    for (let now = 0; now <= 200_000; now++) {
      wheel.poll(now, (index) => order.push([index, now]))
    }
    const expected = deadlines
      .map((when, index) => [index, when] as [number, number])
      .sort((a, b) => a[1] - b[1])
    expect(order).toEqual(expected)
  })

  it('expires equal deadlines in FIFO order (same slot)', () => {
    const wheel = new Wheel(0)
    for (let index = 0; index < 10; index++) wheel.arm(index, 0, 5000)
    expect(fired(wheel, 4999)).toEqual([])
    expect(fired(wheel, 5000)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('keeps FIFO for equal deadlines that arrive through different levels and cascades', () => {
    const when = 3 * width(3) + 5 * width(2) + 7 * width(1) + 9 // level 3 from tick 0
    const wheel = new Wheel(0)
    wheel.arm(1, 0, when) // A: level 3
    wheel.poll(3 * width(3) + 1, () => {}) // A cascades down to level 2
    wheel.arm(2, 0, when) // B: level 2, behind A
    wheel.poll(3 * width(3) + 5 * width(2) + 3, () => {}) // both cascade to level 1
    wheel.arm(3, 0, when) // C: level 1
    wheel.poll(when - 1, () => {}) // all at level 0
    wheel.arm(4, 0, when) // D: level 0
    expect(wheel.size()).toBe(4)
    expect(fired(wheel, when)).toEqual([1, 2, 3, 4])
  })

  it('keeps FIFO when a single big poll cascades several levels at once', () => {
    const wheel = new Wheel(0)
    const when = 2 * width(4) + 17
    wheel.arm(10, 0, when) // level 4
    wheel.poll(2 * width(4), () => {}) // one poll cascades it from level 4 down to level 0
    expect(wheel.nextExpiration()).toBe(when) // a level-0 slot: exact
    wheel.arm(11, 0, when) // level 0, behind it
    wheel.arm(12, 0, when - 1)
    expect(fired(wheel, Shared.MAX_TICK)).toEqual([12, 10, 11])
  })

  it('moves runs of equal deadlines through cascades whole: order kept, every entry still cancellable', () => {
    // Level 2 from tick 0: runs of 4 at `when`, 3 at `when + 1`, 4 at `when`, 2 at `when + 70`
    // (a different level-1 slot), cascaded by two polls before they are due.
    const when = 5 * width(2) + 3 * width(1) + 2
    const deadlines = [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 70, 70].map((d) => when + d)
    const wheel = new Wheel(0)
    deadlines.forEach((w, index) => wheel.arm(index, 0, w))
    wheel.poll(5 * width(2), () => {}) // the level-2 slot cascades: to level 1
    // Cancel a run's first entry, one in the middle, a run's last entry, and one of a run of two.
    for (const index of [0, 5, 10, 12]) expect(wheel.cancel(index)).toBe(true)
    wheel.poll(when - 1, () => {}) // runs at `when` and `when + 1` cascade to level 0
    expect(wheel.cancel(8)).toBe(true) // inside a run after its second move
    expect(fired(wheel, when)).toEqual([1, 2, 3, 7, 9])
    expect(fired(wheel, when + 1)).toEqual([4, 6])
    wheel.arm(13, 0, when + 70)
    expect(fired(wheel, Shared.MAX_TICK)).toEqual([11, 13])
    expect(wheel.size()).toBe(0)
  })

  it('treats a moved timer as armed last among equal deadlines', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 0, 500)
    wheel.arm(2, 0, 500)
    wheel.arm(3, 0, 500)
    wheel.arm(1, 0, 500) // move to the tail
    expect(fired(wheel, 500)).toEqual([2, 3, 1])
  })

  it('expires every timer of a jump over many slots and levels in deadline order', () => {
    const wheel = new Wheel(12_345)
    const deadlines: number[] = []
    for (let level = 0; level < LEVELS; level++) {
      for (const offset of [1, width(level), width(level) + 1, 2 * width(level) - 1]) {
        deadlines.push(Math.min(Shared.MAX_TICK, 12_345 + offset))
      }
    }
    deadlines.forEach((when, index) => wheel.arm(index, 0, when))
    const expected = deadlines
      .map((when, index) => ({ when, index }))
      .sort((a, b) => a.when - b.when || a.index - b.index)
      .map(({ index }) => index)
    expect(fired(wheel, Shared.MAX_TICK)).toEqual(expected)
    expect(wheel.size()).toBe(0)
    expect(wheel.nextExpiration()).toBeUndefined()
  })
})

describe('Wheel: arm, move and cancel', () => {
  it('cancel returns true once, then false; false for an unarmed index; any generation', () => {
    const wheel = new Wheel(0)
    wheel.arm(4, 17, 1000)
    expect(wheel.cancel(5)).toBe(false)
    expect(wheel.isArmed(4)).toBe(true)
    expect(wheel.cancel(4)).toBe(true)
    expect(wheel.isArmed(4)).toBe(false)
    expect(wheel.when(4)).toBeUndefined()
    expect(wheel.size()).toBe(0)
    expect(wheel.cancel(4)).toBe(false)
    expect(fired(wheel, 2000)).toEqual([])
    // It acts on the index, whatever the generation: here the one a move gave.
    wheel.arm(4, 1, 3000)
    wheel.arm(4, 2, 4000)
    expect(wheel.cancel(4)).toBe(true)
    expect(fired(wheel, 5000)).toEqual([])
  })

  it('does not emit cancelled timers and keeps the others in their slots', () => {
    const wheel = new Wheel(0)
    for (let index = 0; index < 6; index++) wheel.arm(index, index, 100)
    expect(wheel.cancel(0)).toBe(true) // head
    expect(wheel.cancel(3)).toBe(true) // middle
    expect(wheel.cancel(5)).toBe(true) // tail
    expect(drain(wheel, 100)).toEqual([
      [1, 1],
      [2, 2],
      [4, 4],
    ])
  })

  it('cancelling the only timer empties the wheel (next expiration undefined)', () => {
    const wheel = new Wheel(0)
    wheel.arm(0, 0, width(5) * 3)
    expect(wheel.nextExpiration()).toBe(width(5) * 3)
    wheel.cancel(0)
    expect(wheel.nextExpiration()).toBeUndefined()
  })

  it('arming an armed index moves it: new deadline and generation, counted once', () => {
    const wheel = new Wheel(0)
    wheel.arm(7, 1, 50)
    wheel.arm(7, 2, 5000)
    expect(wheel.size()).toBe(1)
    expect(wheel.when(7)).toBe(5000)
    expect(fired(wheel, 4999)).toEqual([])
    wheel.arm(7, 3, 10) // move back into the past: due now
    expect(wheel.nextExpiration()).toBe(4999)
    expect(drain(wheel, 4999)).toEqual([[7, 3]])
    expect(fired(wheel, 10_000)).toEqual([])
  })

  it('keeps the generation modulo 2^GEN_BITS', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 2 ** Shared.GEN_BITS + 3, 10)
    wheel.arm(2, 2 ** Shared.GEN_BITS + Shared.GEN_MASK, 10)
    expect(drain(wheel, 10)).toEqual([
      [1, 3],
      [2, Shared.GEN_MASK],
    ])
  })

  it('level 0: timers cascaded into a slot come out before those armed into it later; removed ones never', () => {
    // A cascade into level 0 puts a slot's timers in an array (removals leave tombstones);
    // timers armed or moved into the slot afterwards go to its list, behind them.
    const wheel = new Wheel(0)
    for (const index of [1, 2, 4, 6]) wheel.arm(index, 1, 70) // level 1, slot 64..127
    wheel.arm(3, 1, 75)
    expect(drain(wheel, 64)).toEqual([]) // cascade: slot 6 holds [1, 2, 4, 6], slot 11 [3]
    wheel.arm(5, 1, 70) // slot 6's list
    expect(wheel.cancel(2)).toBe(true)
    wheel.arm(1, 2, 70) // moved: behind 5
    wheel.arm(4, 2, 75) // moved to slot 11's list
    expect(wheel.size()).toBe(5)
    expect(wheel.nextExpiration()).toBe(70)
    expect(drain(wheel, 70)).toEqual([
      [6, 1],
      [5, 1],
      [1, 2],
    ])
    expect(drain(wheel, 75)).toEqual([
      [3, 1],
      [4, 2],
    ])
    expect(wheel.size()).toBe(0)
    expect(wheel.nextExpiration()).toBeUndefined()
  })

  it('level 0: a slot whose cascaded timers are all cancelled is empty again (no wake-up for it)', () => {
    const wheel = new Wheel(0)
    for (let round = 0; round < 3; round++) {
      const base = (round + 1) * 64
      for (let index = 0; index < 100; index++) wheel.arm(index, round, base + 7)
      wheel.arm(100, round, base + 40)
      expect(drain(wheel, base)).toEqual([]) // the cascade moves them to level 0's arrays
      for (let index = 0; index < 100; index++) expect(wheel.cancel(index)).toBe(true)
      expect(wheel.nextExpiration()).toBe(base + 40)
      expect(wheel.cancel(100)).toBe(true)
      expect(wheel.nextExpiration()).toBeUndefined()
    }
    wheel.arm(0, 9, 3 * 64 + 7)
    expect(drain(wheel, 4 * 64)).toEqual([[0, 9]])
  })

  it('cancels a timer from the due list', () => {
    const wheel = new Wheel(1000)
    wheel.arm(1, 0, 10)
    wheel.arm(2, 0, 1000)
    wheel.arm(3, 0, 999)
    expect(wheel.nextExpiration()).toBe(1000)
    expect(wheel.cancel(2)).toBe(true)
    expect(wheel.cancel(2)).toBe(false)
    expect(fired(wheel, 1000)).toEqual([1, 3])
  })
})

describe('Wheel: due timers and poll', () => {
  it('poll with a limit emits at most that many, in order, and leaves the rest due ahead of later timers', () => {
    const wheel = new Wheel(0)
    for (let index = 0; index < 10; index++) wheel.arm(index, 0, 100 + (index % 3))
    wheel.arm(10, 0, 200)
    const got: number[] = []
    expect(wheel.poll(150, (index) => got.push(index), 4)).toBe(true)
    expect(got).toEqual([0, 3, 6, 9]) // deadline 100, FIFO
    expect(wheel.size()).toBe(7)
    expect(wheel.nextExpiration()).toBe(150) // the rest are due
    wheel.arm(11, 0, 50) // late: sorted in among the due ones by its deadline
    expect(wheel.poll(150, (index) => got.push(index), 3)).toBe(true)
    expect(got.slice(4)).toEqual([11, 1, 4])
    expect(wheel.cancel(5)).toBe(true) // a due timer not yet emitted can still be cancelled
    expect(wheel.poll(300, (index) => got.push(index), 4)).toBe(false) // exactly what was left
    expect(got.slice(7)).toEqual([7, 2, 8, 10])
    expect(wheel.poll(300, (index) => got.push(index), 0)).toBe(false) // nothing due: not stopped
    expect(wheel.size()).toBe(0)
  })

  it('a timer armed with when <= elapsed is due on the next poll, even one with now < elapsed', () => {
    const wheel = new Wheel(500)
    wheel.arm(1, 0, 500)
    wheel.arm(2, 0, 10)
    wheel.arm(3, 0, -5) // a negative deadline is tick 0 (ticks are unsigned in Rust)
    expect(wheel.when(3)).toBe(0)
    expect(wheel.nextExpiration()).toBe(500)
    expect(fired(wheel, 100)).toEqual([3, 2, 1]) // deadline order, though armed the other way
    expect(wheel.elapsed()).toBe(500)
    expect(fired(wheel, 100)).toEqual([])
  })

  it('timers armed late, out of deadline order, come out in deadline order, FIFO among equals (as in Rust)', () => {
    const wheel = new Wheel(1000)
    const late: [number, number][] = [[1, 900], [2, 300], [3, 900], [4, 1000], [5, 300], [6, 50]]
    for (const [i, when] of late) wheel.arm(i, 0, when)
    wheel.arm(7, 0, 1001)
    expect(wheel.cancel(3)).toBe(true)
    wheel.arm(2, 0, 300) // moved: now behind 5, its equal
    expect(fired(wheel, 1001)).toEqual([6, 5, 2, 1, 4, 7])
    for (const [i, when] of late) wheel.arm(i, 0, when)
    const taken: number[][] = []
    wheel.takeAll((index, _gen, when) => taken.push([index, when]))
    expect(taken).toEqual([[6, 50], [2, 300], [5, 300], [1, 900], [3, 900], [4, 1000]])
    expect(wheel.size()).toBe(0)
    // Many, in reverse order with equal deadlines interleaved.
    const many = new Wheel(2 ** 20)
    for (let i = 0; i < 10_000; i++) many.arm(i, 0, 10_000 - (i >>> 1))
    const want: number[] = []
    for (let k = 4_999; k >= 0; k--) want.push(2 * k, 2 * k + 1)
    expect(fired(many, 2 ** 20)).toEqual(want)
  })

  it('emits the timers already due before those the poll cascades', () => {
    const wheel = new Wheel(100)
    wheel.arm(1, 0, 101)
    wheel.arm(2, 0, 50) // due
    wheel.arm(3, 0, 100) // due
    expect(fired(wheel, 101)).toEqual([2, 3, 1])
  })

  it('never advances elapsed backwards; NaN and fractions of a tick do not advance it', () => {
    const wheel = new Wheel(100)
    wheel.arm(1, 0, 101)
    wheel.poll(50, () => {})
    expect(wheel.elapsed()).toBe(100)
    wheel.poll(Number.NaN, () => {})
    expect(wheel.elapsed()).toBe(100)
    expect(fired(wheel, 100.9)).toEqual([])
    expect(wheel.elapsed()).toBe(100)
    expect(fired(wheel, 101.5)).toEqual([1])
    expect(wheel.elapsed()).toBe(101)
  })

  it('rounds a fractional deadline up to a whole tick', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 0, 9.2)
    expect(wheel.when(1)).toBe(10)
    expect(fired(wheel, 9)).toEqual([])
    expect(fired(wheel, 10)).toEqual([1])
  })

  it('lets emit re-arm, cancel and arm without disturbing the drain', () => {
    const wheel = new Wheel(0)
    for (let index = 0; index < 5; index++) wheel.arm(index, 0, 10)
    const seen: number[] = []
    wheel.poll(10, (index) => {
      seen.push(index)
      expect(wheel.isArmed(index)).toBe(false)
      if (index === 0) {
        wheel.arm(0, 1, 0) // re-arm itself in the past: next poll, not this one
        wheel.arm(100_000, 0, 5) // new index in the past, grows storage: next poll
        expect(wheel.cancel(2)).toBe(true) // not yet emitted: never emitted
      }
      if (index === 1) wheel.arm(3, 0, 10) // move a pending one behind the drain's end
      if (index === 1) expect(wheel.cancel(4)).toBe(true) // cancel the drain's last entry
    })
    expect(seen).toEqual([0, 1])
    expect(wheel.size()).toBe(3)
    expect(drain(wheel, 10)).toEqual([
      [0, 1],
      [100_000, 0],
      [3, 0],
    ])
  })

  it('a callback that re-arms itself at the current tick does not loop', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 0, 1)
    let calls = 0
    const again = (index: number): void => {
      calls++
      wheel.arm(index, 0, wheel.elapsed())
    }
    wheel.poll(1, again)
    expect(calls).toBe(1)
    wheel.poll(1, again)
    expect(calls).toBe(2)
    expect(wheel.size()).toBe(1)
  })

  it('leaves the rest due when emit throws', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 0, 5)
    wheel.arm(2, 0, 5)
    expect(() =>
      wheel.poll(5, () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(wheel.isArmed(1)).toBe(false)
    expect(wheel.isArmed(2)).toBe(true)
    expect(wheel.nextExpiration()).toBe(5)
    expect(fired(wheel, 5)).toEqual([2])
  })
})

describe('Wheel: limits', () => {
  it('saturates deadlines at MAX_TICK (beyond, Infinity, NaN) and expires them in FIFO order', () => {
    const wheel = new Wheel(0)
    wheel.arm(1, 0, Shared.MAX_TICK + 5)
    wheel.arm(2, 0, Infinity)
    wheel.arm(3, 0, Shared.MAX_TICK)
    wheel.arm(4, 0, Number.NaN)
    wheel.arm(5, 0, 2 ** 60)
    for (let index = 1; index <= 5; index++) expect(wheel.when(index)).toBe(Shared.MAX_TICK)
    wheel.arm(6, 0, Shared.MAX_TICK - 1)
    expect(fired(wheel, Shared.MAX_TICK - 2)).toEqual([])
    expect(fired(wheel, Shared.MAX_TICK - 1)).toEqual([6])
    expect(fired(wheel, Shared.MAX_TICK)).toEqual([1, 2, 3, 4, 5])
    // Past MAX_TICK every deadline is due at once.
    wheel.poll(Shared.MAX_TICK + 1000, () => {})
    wheel.arm(7, 0, Infinity)
    expect(wheel.nextExpiration()).toBe(Shared.MAX_TICK + 1000)
    expect(fired(wheel, 0)).toEqual([7])
  })

  it('polls across the 2^32 boundary and beyond in big jumps', () => {
    const start = 2 ** 32 - 10
    const wheel = new Wheel(start)
    const deadlines = [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 33 + 12_345, 2 ** 40 + 7, 2 ** 32 + width(5) + 3]
    deadlines.forEach((when, index) => wheel.arm(index, 0, when))
    expect(fired(wheel, 2 ** 32 - 1)).toEqual([0])
    expect(fired(wheel, 2 ** 32 + 1)).toEqual([1, 2])
    expect(fired(wheel, 2 ** 33 + 12_344)).toEqual([5])
    expect(fired(wheel, 2 ** 33 + 12_345)).toEqual([3])
    expect(wheel.elapsed()).toBe(2 ** 33 + 12_345)
    expect(fired(wheel, 2 ** 41)).toEqual([4])
  })

  it('works next to MAX_TICK', () => {
    const wheel = new Wheel(Shared.MAX_TICK - 100)
    wheel.arm(1, 0, Shared.MAX_TICK)
    wheel.arm(2, 0, Shared.MAX_TICK - 99)
    wheel.arm(3, 0, Shared.MAX_TICK - 64)
    expect(wheel.nextExpiration()).toBe(Shared.MAX_TICK - 99)
    expect(fired(wheel, Shared.MAX_TICK - 1)).toEqual([2, 3])
    expect(fired(wheel, Shared.MAX_TICK)).toEqual([1])
  })
})

describe('Wheel: nextExpiration', () => {
  it('is undefined when empty, elapsed when something is due, the exact tick within a level-0 span', () => {
    const wheel = new Wheel(1000)
    expect(wheel.nextExpiration()).toBeUndefined()
    wheel.arm(1, 0, 1020)
    expect(wheel.nextExpiration()).toBe(1020) // 1000 and 1020 share their ticks >> SLOT_BITS
    wheel.arm(2, 0, 1010)
    expect(wheel.nextExpiration()).toBe(1010)
    wheel.arm(3, 0, 900)
    expect(wheel.nextExpiration()).toBe(1000)
    fired(wheel, 1000)
    expect(wheel.nextExpiration()).toBe(1010)
  })

  it('is the start of the earliest occupied slot: a lower bound reached in at most LEVELS wake-ups', () => {
    for (const [start, when] of [
      [0, 5000],
      [0, Shared.MAX_TICK],
      [77, 2 ** 32 + 5],
      [2 ** 32 - 1, 2 ** 43 + 3],
      [123_456_789, 123_456_789 + width(6) + width(3) + 1],
    ] as Array<[number, number]>) {
      const wheel = new Wheel(start)
      wheel.arm(0, 0, when)
      let wakeups = 0
      let emitted: number[] = []
      while (emitted.length === 0) {
        const next = wheel.nextExpiration()
        expect(next).toBeDefined()
        expect(next!).toBeGreaterThan(wheel.elapsed())
        expect(next!).toBeLessThanOrEqual(when)
        emitted = fired(wheel, next!)
        wakeups++
      }
      expect(wheel.elapsed()).toBe(when)
      expect(wakeups).toBeLessThanOrEqual(LEVELS)
      expect(wheel.nextExpiration()).toBeUndefined()
    }
  })

  it('with many far timers is a single far tick (an idle wheel does not wake)', () => {
    const wheel = new Wheel(0)
    for (let index = 0; index < 10_000; index++) wheel.arm(index, 0, width(4) + index * 1000)
    expect(wheel.nextExpiration()).toBe(width(4))
  })
})

// -------------------------------------------------------------------------------------------------
// Randomized comparison against a simple reference.

/** sfc32: a small, fast, seedable PRNG (32-bit state words). */
class Rng {
  private a: number
  private b: number
  private c: number
  private d: number
  constructor(seed: number) {
    this.a = 0x9e3779b9
    this.b = 0x243f6a88
    this.c = 0xb7e15162
    this.d = seed | 0
    for (let i = 0; i < 15; i++) this.u32()
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }
  /** Uniform integer in [0, n) for 0 < n <= 2^53. */
  below(n: number): number {
    const x = this.u32() * 2 ** 21 + (this.u32() >>> 11) // 53 random bits
    return Math.floor((x / 2 ** 53) * n)
  }
  /** Uniform integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1)
  }
  chance(p: number): boolean {
    return this.u32() < p * 2 ** 32
  }
}

interface RefEntry {
  key: number
  seq: number
  index: number
  gen: number
  when: number
}

/**
 * The reference: a plain array sorted by (key, seq), where key = when: a timer armed in the
 * past is due at once, and comes out in deadline order among the due ones all the same.
 */
class Reference {
  elapsed: number
  private entries: RefEntry[] = []
  private byIndex = new Map<number, RefEntry>()
  private seq = 0
  constructor(start: number) {
    this.elapsed = start
  }
  size(): number {
    return this.entries.length
  }
  get(index: number): RefEntry | undefined {
    return this.byIndex.get(index)
  }
  /** When the earliest timer is due: its deadline, or now (`elapsed`) if that has passed. */
  minKey(): number | undefined {
    const key = this.entries[0]?.key
    return key === undefined ? undefined : Math.max(key, this.elapsed)
  }
  /** The deadline of a random armed timer, or undefined when none is armed. */
  randomWhen(rng: Rng): number | undefined {
    return this.entries.length === 0 ? undefined : this.entries[rng.below(this.entries.length)]!.when
  }
  arm(index: number, gen: number, when: number): void {
    this.remove(index)
    when = Math.min(when, Shared.MAX_TICK)
    const entry: RefEntry = { key: when, seq: this.seq++, index, gen: gen & Shared.GEN_MASK, when }
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const other = this.entries[mid]!
      if (other.key < entry.key || (other.key === entry.key && other.seq < entry.seq)) lo = mid + 1
      else hi = mid
    }
    this.entries.splice(lo, 0, entry)
    this.byIndex.set(index, entry)
  }
  cancel(index: number): boolean {
    if (!this.byIndex.has(index)) return false
    this.remove(index)
    return true
  }
  /** The first `limit` timers due at `now`, in order; `more` iff due ones were left. */
  poll(now: number, limit = Infinity): Array<[number, number]> & { more?: boolean } {
    this.elapsed = Math.max(this.elapsed, now)
    let n = 0
    while (n < this.entries.length && this.entries[n]!.key <= this.elapsed) n++
    const more = n > limit
    const out = this.entries.splice(0, Math.min(n, limit))
    for (const entry of out) this.byIndex.delete(entry.index)
    return Object.assign(
      out.map((entry): [number, number] => [entry.index, entry.gen]),
      { more },
    )
  }
  private remove(index: number): void {
    const entry = this.byIndex.get(index)
    if (entry === undefined) return
    this.entries.splice(this.entries.indexOf(entry), 1)
    this.byIndex.delete(index)
  }
}

/**
 * The shape of one random sequence: deadlines and jumps reach up to level `top` (so sequences
 * differ in which levels they stress), and only `far` sequences use deadlines next to or beyond
 * MAX_TICK (which, once polled, leave every later arm due at once).
 */
interface Profile {
  top: number
  far: boolean
}

/** A deadline relative to `elapsed`: the past, equal to another, slot edges, any level, MAX_TICK. */
function randomWhen(rng: Rng, profile: Profile, elapsed: number, ref: Reference): number {
  const pick = rng.below(100)
  const existing = pick < 8 ? ref.randomWhen(rng) : undefined
  if (existing !== undefined) return existing // equal deadlines
  if (pick < 14) return elapsed - rng.below(Math.min(elapsed, 200) + 1) // due at once
  if (profile.far && pick < 18) return Shared.MAX_TICK - rng.below(3 * SLOTS) // next to Shared.MAX_TICK
  if (profile.far && pick < 20) return Shared.MAX_TICK + rng.range(1, 1000) // saturates
  const level = rng.range(0, profile.top)
  if (pick < 30) {
    // Next to a slot edge at some level.
    const w = width(level)
    return Math.min(Shared.MAX_TICK, (Math.floor(elapsed / w) + rng.range(1, SLOTS)) * w + rng.range(-1, 1))
  }
  // Uniform within a level's span above elapsed.
  return Math.min(Shared.MAX_TICK, elapsed + 1 + rng.below(width(level + 1)))
}

/**
 * A poll target: backwards, small steps, to the next expiration, to a deadline, jumps over 2^32
 * ticks, level-sized jumps. Kept below MAX_TICK but for a rare poll to (or past) the end in `far`
 * sequences.
 */
function randomNow(rng: Rng, profile: Profile, wheel: Wheel, ref: Reference): number {
  const elapsed = wheel.elapsed()
  const pick = rng.below(200)
  if (profile.far && pick === 0) return Shared.MAX_TICK + rng.below(2) // the very end (and past it)
  let now: number
  if (pick < 10) now = elapsed - rng.below(100) // backwards: only the due list
  else if (pick < 50) now = elapsed + rng.below(3 * SLOTS)
  else if (pick < 80) now = wheel.nextExpiration() ?? elapsed + 1
  else if (pick < 120) now = Math.max(elapsed, (ref.randomWhen(rng) ?? elapsed) + rng.range(-1, 1))
  else if (pick < 130 && profile.top >= LEVELS - 2) now = elapsed + 2 ** 32 + rng.below(2 ** 34)
  else now = elapsed + rng.below(width(rng.range(1, profile.top + 1)))
  return Math.min(now, Math.max(elapsed, Shared.MAX_TICK - 1))
}

interface Stats {
  ops: number
  arms: number
  cancels: number
  polls: number
  /** Polls that stopped at their limit with timers still due. */
  limited: number
  emitted: number
  /** Arms per wheel level the timer lands at (by the placement rule), and into the due list. */
  levels: number[]
  due: number
  /** Polls that advanced elapsed by more than 2^32 ticks; arms within 3 * SLOTS of MAX_TICK. */
  bigJumps: number
  nearMax: number
}

/** The level the placement rule puts `when` at, given `elapsed < when` (computed independently). */
function levelOf(elapsed: number, when: number): number {
  let level = 0
  while (Math.floor(elapsed / width(level + 1)) !== Math.floor(when / width(level + 1))) level++
  return level
}

/**
 * Cheap assertions for the hot loop (vitest's `expect` costs microseconds a call): compare, and
 * only on a mismatch hand over to `expect` for its diff.
 */
function same(actual: unknown, expected: unknown, where: string): void {
  if (!Object.is(actual, expected)) expect(actual, where).toBe(expected)
}
function holds(condition: boolean, where: string, what: string): void {
  if (!condition) expect.fail(`${where}: ${what}`)
}
function samePairs(actual: Array<[number, number]>, expected: Array<[number, number]>, where: string): void {
  let equal = actual.length === expected.length
  for (let i = 0; equal && i < actual.length; i++) {
    equal = actual[i]![0] === expected[i]![0] && actual[i]![1] === expected[i]![1]
  }
  if (!equal) expect(actual, where).toEqual(expected)
}

function runSequence(seed: number, stats: Stats): void {
  const rng = new Rng(seed)
  const startPick = rng.below(4)
  const start =
    startPick === 0
      ? rng.below(1000)
      : startPick === 1
        ? 2 ** 32 - rng.below(5000)
        : startPick === 2
          ? rng.below(Shared.MAX_TICK - 2 ** 20)
          : Shared.MAX_TICK - rng.below(2 ** 36)
  const profile: Profile = { top: rng.range(0, LEVELS - 1), far: startPick === 3 || rng.chance(0.15) }
  const wheel = new Wheel(start)
  const ref = new Reference(start)
  const pool = rng.chance(0.1) ? 2000 : rng.range(1, 64)
  const gens = new Int32Array(pool) // next generation per index
  const ops = rng.range(20, 250)

  const check = (where: string): void => {
    same(wheel.size(), ref.size(), `${where} size`)
    same(wheel.elapsed(), ref.elapsed, `${where} elapsed`)
    const next = wheel.nextExpiration()
    const min = ref.minKey()
    if (min === undefined) {
      same(next, undefined, `${where} nextExpiration of an empty wheel`)
    } else if (next === undefined) {
      expect.fail(`${where}: nextExpiration undefined with ${ref.size()} armed`)
    } else {
      // A lower bound of the earliest deadline, never before elapsed; exactly elapsed when due.
      const elapsed = wheel.elapsed()
      holds(next <= min, where, `nextExpiration ${next} > earliest deadline ${min}`)
      if (min <= elapsed) same(next, elapsed, `${where} nextExpiration with a timer due`)
      else holds(next > elapsed, where, `nextExpiration ${next} <= elapsed ${elapsed} with nothing due`)
    }
  }

  for (let op = 0; op < ops; op++) {
    const where = `seed=${seed} op=${op}`
    const kind = rng.below(100)
    stats.ops++
    if (kind < 50) {
      // Arm a fresh or armed index (a move).
      const index = rng.below(pool)
      const gen = (gens[index] = (gens[index]! + 1) & Shared.GEN_MASK)
      const when = randomWhen(rng, profile, wheel.elapsed(), ref)
      const clamped = Math.min(when, Shared.MAX_TICK)
      if (clamped <= wheel.elapsed()) stats.due++
      else stats.levels[levelOf(wheel.elapsed(), clamped)]!++
      if (clamped >= Shared.MAX_TICK - 3 * SLOTS) stats.nearMax++
      wheel.arm(index, gen, when)
      ref.arm(index, gen, when)
      same(wheel.when(index), ref.get(index)!.when, `${where} when after arm`)
      stats.arms++
    } else if (kind < 72) {
      // Cancel an index, armed or not.
      const index = rng.below(pool)
      same(wheel.cancel(index), ref.cancel(index), `${where} cancel(${index})`)
      stats.cancels++
    } else {
      const now = randomNow(rng, profile, wheel, ref)
      if (now - wheel.elapsed() > 2 ** 32) stats.bigJumps++
      // A third of the polls emit at most a few timers (the TypeScript engine's sliced polls).
      const limit = rng.chance(0.33) ? rng.below(6) : Infinity
      const got: Array<[number, number]> = []
      const more = wheel.poll(
        now,
        (index, gen) => {
          got.push([index, gen])
          // Never early: the timer's deadline (or its arming tick when armed in the past) has come.
          const key = ref.get(index)?.key
          holds(key !== undefined && key <= wheel.elapsed(), where, `emitted ${index} early or unarmed`)
        },
        limit,
      )
      const expected = ref.poll(now, limit)
      samePairs(got, expected, `${where} poll(${now}, ${limit})`)
      same(more, expected.more, `${where} poll(${now}, ${limit}) returned`)
      if (more) stats.limited++
      stats.polls++
      stats.emitted += got.length
    }
    check(where)
    if (op % 16 === 0) {
      for (let index = 0; index < Math.min(pool, 64); index++) {
        same(wheel.isArmed(index), ref.get(index) !== undefined, `${where} isArmed(${index})`)
        same(wheel.when(index), ref.get(index)?.when, `${where} when(${index})`)
      }
    }
  }
  // Finally expire everything: the remaining timers come out in reference order.
  samePairs(drain(wheel, Shared.MAX_TICK), ref.poll(Shared.MAX_TICK), `seed=${seed} final`)
  same(wheel.size(), 0, `seed=${seed} final size`)
  same(wheel.nextExpiration(), undefined, `seed=${seed} final nextExpiration`)
}

describe('Wheel: randomized comparison with a sorted-array reference', () => {
  const SEQUENCES = 10_000
  // Set WHEEL_SEED to replay one failing sequence (the failure message names its seed).
  const fixed = process.env.WHEEL_SEED
  const baseSeed = 0x5eed_0000

  it(`matches the reference over ${fixed === undefined ? SEQUENCES : 1} random sequences`, () => {
    const stats: Stats = {
      ops: 0,
      arms: 0,
      cancels: 0,
      polls: 0,
      limited: 0,
      emitted: 0,
      levels: new Array<number>(LEVELS).fill(0),
      due: 0,
      bigJumps: 0,
      nearMax: 0,
    }
    const seeds = fixed === undefined ? Array.from({ length: SEQUENCES }, (_, i) => baseSeed + i) : [Number(fixed)]
    for (const seed of seeds) {
      try {
        runSequence(seed, stats)
      } catch (error) {
        console.error(`wheel randomized test failed: replay with WHEEL_SEED=${seed}`)
        throw error
      }
    }
    console.log(
      `wheel randomized: ${seeds.length} sequences, ${stats.ops} ops ` +
        `(${stats.arms} arms, ${stats.cancels} cancels, ${stats.polls} polls, ${stats.emitted} emitted); ` +
        `arms per level ${stats.levels.join('/')}, due ${stats.due}, near MAX_TICK ${stats.nearMax}; ` +
        `polls jumping > 2^32 ticks ${stats.bigJumps}; polls stopped at their limit ${stats.limited}`,
    )
    if (fixed === undefined) {
      // The sequences do cover what they are meant to.
      for (const count of stats.levels) expect(count).toBeGreaterThan(100)
      expect(stats.due).toBeGreaterThan(100)
      expect(stats.nearMax).toBeGreaterThan(100)
      expect(stats.bigJumps).toBeGreaterThan(100)
      expect(stats.limited).toBeGreaterThan(1000)
      expect(stats.emitted).toBeGreaterThan(10_000)
    }
  })
})

describe('Wheel.takeAll', () => {
  it('empties the wheel in poll order, keeps elapsed, and leaves it usable', () => {
    const a = new Wheel(1000)
    const b = new Wheel(1000)
    const deadlines = [5000, 1001, 70_000, 1001, 999, 4_000_000, 1000, 5000, 64 ** 4 + 3, 2000, 2 ** 40, Shared.MAX_TICK]
    deadlines.forEach((when, i) => {
      a.arm(i, i * 7, when)
      b.arm(i, i * 7, when)
    })
    const firedA: number[] = []
    const firedB: number[] = []
    a.poll(3000, (i) => firedA.push(i))
    b.poll(3000, (i) => firedB.push(i))
    expect(firedA).toEqual(firedB)
    for (const w of [a, b]) {
      w.arm(20, 1, 2500)
      w.arm(21, 1, 10)
    }
    const taken: [number, number, number][] = []
    a.takeAll((i, g, when) => taken.push([i, g, when]))
    const expected: [number, number][] = []
    b.poll(Shared.MAX_TICK, (i, g) => expected.push([i, g]))
    expect(taken.map(([i, g]) => [i, g])).toEqual(expected)
    for (const [i, , when] of taken) expect(when).toBe(i === 20 ? 2500 : i === 21 ? 10 : deadlines[i])
    expect(a.size()).toBe(0)
    expect(a.elapsed()).toBe(3000)
    expect(a.nextExpiration()).toBeUndefined()
    for (let i = 0; i < 22; i++) expect(a.isArmed(i)).toBe(false)
    a.arm(3, 1, 3500)
    const after: number[] = []
    a.poll(3500, (i) => after.push(i))
    expect(after).toEqual([3])
  })
})
