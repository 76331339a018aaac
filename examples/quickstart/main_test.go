package main

// The README's embedding example runs and prints what it claims.
func Example() {
	main()
	// Output:
	// created catalog true
	// plain user refused: true
	// catalog: General serviceDefault
	// catalog: Marketing userManaged
	// log verified up to position 2
}
