"""Ordinary sentences that are not commands: for false-alarm counting and for babble noise.

Written for variety (home, weather, work, food, sport, numbers, questions) and salted with words
that sound like commands: steady, already, top, stopwatch, painting, spotted, reddish, knows,
paws, skipper, yesterday, pastry, raised, faster-sounding "master", "plaster" … None contains a
command phrase of content/intents.toml as a run of words (``check`` proves it at start-up).
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

SENTENCES: tuple[str, ...] = (
    "Keep the camera steady while I check the light.",
    "We have already eaten, thank you.",
    "Put the box on the top shelf of the cupboard.",
    "My stopwatch says twelve minutes and forty seconds.",
    "She is painting the kitchen a pale shade of green.",
    "The bus was late again this morning, so I walked.",
    "Could you pass me the salt and the pepper?",
    "The children spotted a fox at the edge of the garden.",
    "His hair looks reddish in the evening sun.",
    "Nobody knows where the old key went.",
    "The dog left muddy paws all over the floor.",
    "The skipper steered the boat into the harbour.",
    "Yesterday the market was full of apples and pears.",
    "I bought a pastry and a coffee at the bakery.",
    "They raised the money for a new playground.",
    "The plaster on the ceiling is cracking.",
    "A master carpenter built this table by hand.",
    "Steady rain fell for most of the afternoon.",
    "The train to Leeds leaves from platform four.",
    "Remember to water the tomatoes in the greenhouse.",
    "The meeting moved to Thursday at half past two.",
    "Her brother plays the trumpet in a brass band.",
    "We watched a documentary about deep sea creatures.",
    "The soup needs a little more salt and some pepper.",
    "The library closes early on Sundays.",
    "My neighbour grows enormous pumpkins every autumn.",
    "The printer ran out of ink in the middle of the report.",
    "Turn left at the church and follow the river.",
    "I think the spotted towel belongs to my sister.",
    "Top marks for the history essay this term.",
    "A tall stack of papers sat on the desk.",
    "The stopper on this bottle is stuck.",
    "The postman brought a parcel for you.",
    "Our team scored in the final minute of the match.",
    "The painting in the hall shows a stormy sea.",
    "It was a steady climb to the top of the hill.",
    "I have already read that book twice.",
    "The cat sleeps on the sofa all afternoon.",
    "Fresh bread smells wonderful in the morning.",
    "Please close the window, there is a draught.",
    "The baby laughed at the bubbles in the bath.",
    "He keeps his tools in a red metal box.",
    "The orchestra tuned up before the concert.",
    "A flock of geese flew over the lake.",
    "The bridge was built more than a century ago.",
    "Our flight was delayed by fog in Amsterdam.",
    "She ordered a pizza with olives and mushrooms.",
    "The kettle has boiled, shall I make tea?",
    "The hospital car park was completely full.",
    "My grandmother knitted this scarf for me.",
    "The shop sells buttons, ribbons and thread.",
    "Forty seven people came to the village fete.",
    "The football club painted the fence blue.",
    "A small boat drifted past the lighthouse.",
    "The recipe calls for three eggs and some flour.",
    "He studied chemistry at a university in Glasgow.",
    "There is a draft of the letter on the table.",
    "The garage door squeaks when it opens.",
    "We planted a cherry tree by the gate.",
    "I left my umbrella on the train.",
    "The mountains were covered in fresh snow.",
    "Her laptop battery lasts about six hours.",
    "A steady breeze came in from the west.",
    "The farmer mended the wall with old stones.",
    "Those shoes are already worn at the heel.",
    "The spotlight followed the dancer across the stage.",
    "We played cards until midnight.",
    "The hotel room had a view of the harbour.",
    "Please write your name at the top of the form.",
    "The stopwatch beeped at the end of the race.",
    "The painter mixed a deep shade of blue.",
    "The tortoise ate a whole lettuce leaf.",
    "The radio played an old jazz record.",
    "My uncle repairs bicycles in his shed.",
    "The wind blew the leaves across the lawn.",
    "She reads the newspaper every morning over breakfast.",
    "The sandwich shop on the corner opens at eight.",
    "Thunder rolled across the valley all night.",
    "The teacher handed out the exam papers.",
    "We need batteries for the torch.",
    "The pond froze over during the cold snap.",
    "His pastel drawings hang in the local gallery.",
    "The stopover in Dubai lasted five hours.",
    "Mop the kitchen floor before the guests arrive.",
    "A robin landed on the garden fork.",
    "The spaghetti was cooked just right.",
    "Our car needs new tyres before winter.",
    "The chess club meets in the village hall.",
    "A parrot can learn a surprising number of words.",
    "The bakery sells a lovely seeded loaf.",
    "He carried the shopping up three flights of stairs.",
    "The ferry crossing was calm and sunny.",
    "Blueberries are cheap at this time of year.",
    "The museum has a famous dinosaur skeleton.",
    "She practised the piano for an hour.",
    "The reddest apples grow on the south side.",
    "The detective examined the muddy footprints.",
    "Put the pots and pans in the bottom drawer.",
    "The hockey team trains on Tuesday evenings.",
    "A heavy lorry rumbled down the lane.",
    "The candle flickered in the draught.",
    "His jokes are terrible but everyone laughs.",
    "The swimming pool reopens in the spring.",
    "I keep my passport in the top drawer.",
    "A steady hand is needed for this job.",
    "The painted door looks much brighter now.",
    "My phone alarm rings at seven every day.",
    "The potatoes are boiling on the stove.",
    "Several ducks paddled along the canal.",
    "The shop assistant wrapped the present.",
    "The castle walls are almost two metres thick.",
    "A dripping tap kept me awake all night.",
    "The price of petrol went up again.",
    "We hiked along the coast path to the cove.",
    "Mum baked a lemon cake for the party.",
    "The referee blew the whistle for half time.",
    "These gloves are too small for my hands.",
    "A spotted woodpecker visits our feeder.",
    "The lorry driver stopped for lunch in a lay-by.",
    "The cinema was showing an old western film.",
)

_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def check(sentences: Sequence[str], phrases: Mapping[str, Sequence[str]]) -> list[str]:
    """The sentences that contain a command phrase as a run of words (should be none)."""
    bad = []
    for s in sentences:
        w = " " + " ".join(words(s)) + " "
        if any(f" {p} " in w for ps in phrases.values() for p in ps):
            bad.append(s)
    return bad
