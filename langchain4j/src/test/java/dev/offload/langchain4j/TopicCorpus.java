package dev.offload.langchain4j;

import java.util.List;

/** Eight topics of five made-up sentences each, and per topic one new question about it (not in the corpus). */
final class TopicCorpus {
    record Topic(String name, List<String> sentences, String query) {}

    static final List<Topic> TOPICS = List.of(
            new Topic("cooking", List.of(
                    "Simmer the tomato sauce for twenty minutes and stir in fresh basil.",
                    "Knead the bread dough until it is smooth and elastic.",
                    "Sear the steak in a hot cast-iron pan before roasting it in the oven.",
                    "Whisk the eggs with sugar until the mixture turns pale for the sponge cake.",
                    "Chop the onions finely and fry them in butter until golden."),
                    "How long should I bake a loaf of sourdough, and at what oven temperature?"),
            new Topic("football", List.of(
                    "The striker scored twice in the second half to win the match.",
                    "The goalkeeper saved a penalty in the final minute of extra time.",
                    "The referee showed a red card after a reckless tackle.",
                    "The club signed a new midfielder on a four-year contract.",
                    "Fans filled the stadium for the derby on Sunday."),
                    "Which team won the cup final after the penalty shootout?"),
            new Topic("astronomy", List.of(
                    "The telescope captured images of a distant spiral galaxy.",
                    "Jupiter's largest moon, Ganymede, is bigger than the planet Mercury.",
                    "A supernova can briefly outshine an entire galaxy.",
                    "The comet's tail always points away from the Sun.",
                    "Astronomers discovered an exoplanet orbiting in its star's habitable zone."),
                    "How far away is the nearest star beyond our solar system?"),
            new Topic("finance", List.of(
                    "The central bank raised interest rates by a quarter of a percentage point.",
                    "Investors sold their bonds as inflation fears grew.",
                    "The company's quarterly earnings beat analysts' expectations.",
                    "Diversifying a portfolio reduces the risk of large losses.",
                    "The mortgage payment depends on the loan's term and interest rate."),
                    "Should I put my savings into index funds or individual stocks?"),
            new Topic("music", List.of(
                    "The orchestra performed Beethoven's Ninth Symphony to a standing ovation.",
                    "She practises scales on the piano for an hour every morning.",
                    "The band released its new album after a long world tour.",
                    "A blistering guitar solo closed the rock concert.",
                    "The choir sang the hymn in four-part harmony."),
                    "Which violin concerto did the soloist play at the concert hall last night?"),
            new Topic("programming", List.of(
                    "The function throws an exception when the input list is empty.",
                    "Refactor the class so that each method does one thing.",
                    "The compiler reported a type error on line forty-two.",
                    "Write unit tests before merging the branch into main.",
                    "A hash map gives constant-time lookups on average."),
                    "How do I fix a null pointer exception in my Java code?"),
            new Topic("weather", List.of(
                    "Heavy rain and strong winds are expected along the coast tonight.",
                    "The forecast calls for sunshine and a high of twenty-five degrees.",
                    "A thick fog delayed flights at the airport this morning.",
                    "Snow is likely in the mountains by the weekend.",
                    "The humidity made the summer afternoon feel even hotter."),
                    "Will there be a thunderstorm tomorrow afternoon?"),
            new Topic("medicine", List.of(
                    "The doctor prescribed antibiotics for the bacterial infection.",
                    "Regular exercise lowers blood pressure and the risk of heart disease.",
                    "The vaccine trains the immune system to recognize the virus.",
                    "The patient recovered quickly after knee surgery.",
                    "Take the tablets twice a day with food."),
                    "What are the common symptoms of the flu and how is it treated?"));

    /** All 40 sentences, topic by topic. */
    static List<String> sentences() { return TOPICS.stream().flatMap(t -> t.sentences().stream()).toList(); }

    /** The eight queries, in topic order. */
    static List<String> queries() { return TOPICS.stream().map(Topic::query).toList(); }

    private TopicCorpus() {}
}
