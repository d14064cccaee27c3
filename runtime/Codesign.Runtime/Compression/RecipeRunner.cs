using Codesign.Compiler.Calibration;
using Codesign.Compiler.Frontends;
using Codesign.Compiler.Recipes;
using Codesign.IR.Weights;
using Codesign.Runtime.Text;

namespace Codesign.Runtime.Compression;

/// <summary>
/// Applies a recipe file to an imported model: finds and tokenizes the calibration text when the recipe
/// needs it (the recipe's <c>calibration.text</c>, else <c>calibration.txt</c> beside the model), then runs
/// the compression passes. The model's graph is rewritten in place.
/// </summary>
public static class RecipeRunner
{
    public static LayeredWeightStore Apply(ImportedModel model, string recipePath, Action<string>? log = null) =>
        Apply(model, RecipeLoader.Load(recipePath), Path.GetDirectoryName(Path.GetFullPath(recipePath))!, recipePath, log);

    public static LayeredWeightStore Apply(ImportedModel model, Recipe recipe, string recipeDirectory, string recipeSource, Action<string>? log = null) =>
        RecipePipeline.Apply(model.Graph, model.Weights, recipe, () => LoadCalibration(model, recipe, recipeDirectory, recipeSource), log);

    private static CalibrationSet LoadCalibration(ImportedModel model, Recipe recipe, string recipeDirectory, string recipeSource)
    {
        var spec = recipe.Calibration ?? new CalibrationSpec();
        string path = spec.Text is { } t ? Path.Combine(recipeDirectory, t) : Path.Combine(model.Source, "calibration.txt");
        if (!File.Exists(path))
            throw new RecipeException(recipeSource, $"calibration text {path} does not exist (set calibration.text in the recipe)");
        if (model.TokenizerPath is null)
            throw new RecipeException(recipeSource, $"{model.Source} has no tokenizer.model to tokenize the calibration text with");
        var tokenizer = SentencePieceTokenizer.Load(model.TokenizerPath);
        return CalibrationSet.FromTokens(tokenizer.Encode(File.ReadAllText(path)), spec.Sequences, spec.Length, tokenizer.BosId);
    }
}
