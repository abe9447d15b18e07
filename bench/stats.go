package main

import (
	"math"
	"slices"
	"time"
)

// sample holds the measurements of one quantity.
type sample []float64

// median is the middle measurement, or the mean of the two middle ones.
func (s sample) median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	x := slices.Sorted(slices.Values(s))
	if n := len(x); n%2 == 0 {
		return (x[n/2-1] + x[n/2]) / 2
	}
	return x[len(x)/2]
}

// p99 is the 99th percentile by nearest rank: the least measurement that at least 99 % of them
// do not exceed. Below 100 measurements it is the largest.
func (s sample) p99() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	x := slices.Sorted(slices.Values(s))
	return x[int(math.Ceil(0.99*float64(len(x))))-1]
}

// ms is a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
