//! Short plain-language explanations shown beside each technique.

use microscope_core::atlas::Technique;

/// What a technique shows, in a sentence or two.
pub fn explanation(technique: Technique) -> &'static str {
    match technique {
        Technique::Channel => {
            "An image optimised from noise to excite this channel as much as possible on average \
             over every position: what the whole feature map looks for."
        }
        Technique::Neuron => {
            "The same optimisation for a single position at the centre of the feature map: what \
             one neuron with one receptive field looks for."
        }
        Technique::Negative => {
            "An image optimised to make this channel as negative as possible: what it is looking \
             against."
        }
        Technique::Diversity => {
            "Several images optimised together with a penalty for looking alike: different things \
             that all excite this channel."
        }
        Technique::DatasetExamples => {
            "Crops of real photographs where this unit responds most (top) and least (bottom), \
             with its activation there."
        }
        Technique::Histogram => "How often each activation value occurs over the photo corpus.",
        Technique::TopClasses => {
            "The output classes this unit pushes up most through the rest of the network."
        }
        Technique::Circuits => {
            "The units of the previous layer with the strongest weights into this one, and the units \
             of the next layer it feeds most."
        }
    }
}
