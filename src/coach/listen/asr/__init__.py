"""Speech in: recognizer backends behind one small interface (see ``base``)."""
